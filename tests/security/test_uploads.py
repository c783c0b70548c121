"""Uploads: the content must be what the name says, the size is limited, names never become paths."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from services import domains as domain_rules
from support import attachments, tickets
from support.models import Attachment, InterventionType
from tests.conftest import client_for
from tests.factories import PlanFactory

pytestmark = [pytest.mark.security, pytest.mark.django_db]
RANDOM_NAME = re.compile(r"^tickets/T-\d{4}-\d{6}/[0-9a-f]{32}\.[a-z]+$")
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.fixture
def ticket(customer, owner):
    reason = InterventionType.objects.get(code="hosting-site-down")
    return tickets.open_ticket(
        customer=customer, opened_by=owner, reason=reason, priority="standard", subject="s", description="d"
    )


def _remark(client, ticket, upload):
    return client.post(reverse("ticket_remark", args=[ticket.number]), {"body": "see file", "files": [upload]})


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("screenshot.png", HTML, "image/png"),
        ("invoice.pdf", b"#!/bin/sh\nrm -rf /\n", "application/pdf"),
        ("photo.jpg", b"<svg onload=alert(1)>", "image/jpeg"),
        ("notes.txt", HTML, "text/plain"),
        ("archive.zip", b"MZ\x90\x00 windows executable", "application/zip"),
    ],
)
def test_a_file_whose_content_is_not_its_type_is_refused_with_a_clear_message(
    owner_client, ticket, name, content, content_type
):
    response = _remark(owner_client, ticket, SimpleUploadedFile(name, content, content_type=content_type))
    assert response.status_code == 200
    assert "the file&#x27;s content is not a" in response.content.decode()
    assert not ticket.remarks.exists() and not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("scan.pdf", b"%PDF-1.7\n..."),
        ("screen.png", b"\x89PNG\r\n\x1a\n...."),
        ("photo.jpeg", b"\xff\xd8\xff\xe0..JFIF"),
        ("anim.gif", b"GIF89a...."),
        ("pic.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 "),
        ("logs.zip", b"PK\x03\x04...."),
        ("error.log", b"2026-01-01 12:00 error: <html> in a log line is fine"),
        ("data.csv", b"a;b\n1;2\n"),
    ],
)
def test_files_of_the_allowed_types_pass(name, content):
    attachments.validate(SimpleUploadedFile(name, content, content_type="application/octet-stream"))


def test_an_oversize_file_is_refused(owner_client, ticket, settings):
    settings.SUPPORT_ATTACHMENT_MAX_BYTES = 1024
    upload = SimpleUploadedFile("big.pdf", b"%PDF-1.4" + b"x" * 2048, content_type="application/pdf")
    response = _remark(owner_client, ticket, upload)
    assert "big.pdf is too large" in response.content.decode()
    assert not Attachment.objects.exists()


TRICKS = ["../../x.pdf", "/etc/passwd.pdf", "..\\..\\windows\\x.pdf", "x\x00.pdf", "a/../../b.pdf"]


@pytest.mark.parametrize("name", TRICKS)
def test_path_tricks_in_the_name_never_leave_the_ticket_folder(ticket, owner, name):
    upload = SimpleUploadedFile(name, b"%PDF-1.4 proof", content_type="application/pdf")
    [saved] = attachments.save_all(ticket=ticket, remark=None, files=[upload], by=owner)
    assert RANDOM_NAME.match(saved.file.name), saved.file.name
    assert "/" not in saved.original_name and "\\" not in saved.original_name and "\x00" not in saved.original_name
    assert saved.original_name.endswith(".pdf")


def test_stored_names_are_random_and_keep_the_extension(owner_client, ticket):
    for _ in range(2):
        upload = SimpleUploadedFile("report.pdf", b"%PDF-1.4 r", content_type="application/pdf")
        assert _remark(owner_client, ticket, upload).status_code == 302
    first, second = Attachment.objects.order_by("pk")
    assert first.file.name != second.file.name
    assert all(RANDOM_NAME.match(a.file.name) and "report" not in a.file.name for a in (first, second))
    assert first.original_name == "report.pdf"
    download = owner_client.get(reverse("ticket_attachment", args=[ticket.number, first.pk]))
    assert download["Content-Type"] == "application/octet-stream"
    assert 'filename="report.pdf"' in download["Content-Disposition"]


def test_domain_documents_get_random_names_and_are_checked_by_content(customer, owner, staff_user):
    request = domain_rules.submit_request(
        customer=customer, by=owner, kind="register", domain="random-name.be", plan=PlanFactory(kind="domain")
    )
    domain_rules.set_status(request=request, status="information_requested", by=staff_user, message="KBO?")
    fake = SimpleUploadedFile("kbo.pdf", HTML, content_type="application/pdf")
    with pytest.raises(ValidationError, match="content is not a PDF"):
        domain_rules.answer(request=request, by=owner, body="", document=fake)
    real = SimpleUploadedFile("../kbo.pdf", b"%PDF-1.4 kbo", content_type="application/pdf")
    message = domain_rules.answer(request=request, by=owner, body="", document=real)
    assert message.document_name == "kbo.pdf"
    assert re.search(r"/[0-9a-f]{32}\.pdf$", message.document.name) and "kbo" not in message.document.name


def test_another_customers_attachment_is_not_found(ticket, owner, other_owner):
    upload = SimpleUploadedFile("secret.pdf", b"%PDF-1.4 secret", content_type="application/pdf")
    [saved] = attachments.save_all(ticket=ticket, remark=None, files=[upload], by=owner)
    response = client_for(other_owner).get(reverse("ticket_attachment", args=[ticket.number, saved.pk]))
    assert response.status_code == 404
