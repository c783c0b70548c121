"""The customer's support pages: open a ticket, follow it, add remarks, close and reopen."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditEvent
from services.models import Kind
from support import access, tickets
from support.models import InterventionType, Priority, Status, Ticket
from tests.factories import PlanFactory, ServiceFactory

BRUSSELS = datetime.timezone(datetime.timedelta(hours=1))


@pytest.fixture
def hosting(customer):
    return ServiceFactory(customer=customer, name="www.acme.example", plan=PlanFactory(kind=Kind.SHARED_HOSTING))


@pytest.fixture
def site_down():
    return InterventionType.objects.get(code="hosting-site-down")


def new_ticket(owner, reason, **fields):
    fields = {"priority": "standard", "subject": "s", "description": "d", **fields}
    return tickets.open_ticket(customer=owner.memberships.get().customer, opened_by=owner, reason=reason, **fields)


def _open(client, **data):
    payload = {"reason": "", "priority": Priority.STANDARD, "subject": "Site down", "description": "It is down."}
    payload.update(data)
    return client.post(reverse("ticket_new"), payload)


@pytest.mark.django_db
@time_machine.travel(datetime.datetime(2026, 11, 27, 9, 0, tzinfo=BRUSSELS), tick=False)
def test_art_7_6_a_customer_opens_an_express_incident_and_sees_its_four_hour_deadline(
    owner_client, hosting, site_down, django_capture_on_commit_callbacks, staff_user
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _open(owner_client, service=hosting.pk, reason=site_down.pk, priority=Priority.EXPRESS)
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response.url == ticket.get_absolute_url()
    assert ticket.number == "T-2026-000001"
    assert (ticket.kind, ticket.priority, ticket.status) == ("incident", "express", "new")
    assert ticket.response_deadline == datetime.datetime(2026, 11, 27, 13, 0, tzinfo=BRUSSELS)
    body = owner_client.get(ticket.get_absolute_url()).content.decode()
    assert "T-2026-000001" in body and "Due by" in body
    assert [m.subject for m in mail.outbox] == ["[T-2026-000001] New Express Incident from Acme SRL: Site down"]


@pytest.mark.django_db
def test_ticket_numbers_are_human_unique_and_count_per_year(owner, customer, site_down):
    first = tickets.open_ticket(customer=customer, opened_by=owner, reason=site_down, priority="standard",
                                subject="a", description="a",
                                now=datetime.datetime(2026, 12, 31, 22, 59, tzinfo=datetime.UTC))  # fmt: skip
    second = tickets.open_ticket(customer=customer, opened_by=owner, reason=site_down, priority="standard",
                                 subject="b", description="b",
                                 now=datetime.datetime(2026, 12, 31, 23, 30, tzinfo=datetime.UTC))  # fmt: skip
    assert (first.number, second.number) == ("T-2026-000001", "T-2027-000001")  # 00:30 in Brussels is 2027


@pytest.mark.django_db
def test_the_form_shows_price_and_deadline_before_sending(owner_client, site_down):
    internal = InterventionType.objects.get(code="hosting-internal-migration")
    response = owner_client.get(
        reverse("ticket_new_preview"), {"reason": internal.pk, "priority": "express"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="preview"')
    assert "3 credits per started 15 minutes" in body
    assert "Response due" in body


@pytest.mark.django_db
def test_without_javascript_the_preview_button_shows_price_and_deadline_without_sending(owner_client, site_down):
    response = _open(owner_client, reason=site_down.pk, priority="express", preview="1")
    assert response.status_code == 200
    assert "free" in response.content.decode()
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_a_reason_without_response_time_shows_none(owner_client):
    coding = InterventionType.objects.get(code="hosting-coding")
    response = owner_client.get(reverse("ticket_new_preview"), {"reason": coding.pk, "priority": "standard"})
    assert "No response time applies to this reason." in response.content.decode()


@pytest.mark.django_db
def test_the_reasons_narrow_to_the_services_kind(owner_client, customer):
    domain = ServiceFactory(customer=customer, name="acme.be", plan=PlanFactory(kind=Kind.DOMAIN))
    body = owner_client.get(reverse("ticket_new_reasons"), {"service": domain.pk}).content.decode()
    assert "Update of domain name records" in body
    assert "Website not reachable" not in body


@pytest.mark.django_db
def test_a_service_or_reason_that_is_not_a_number_is_refused_not_an_error(owner_client, hosting):
    # Found by tests/security/test_fuzz_forms.py: "²".isdigit() is true, but it is no primary key.
    assert _open(owner_client, service="²", reason="²").status_code == 200
    htmx = {"HX-Request": "true"}
    assert owner_client.get(reverse("ticket_new_reasons"), {"service": "²"}, headers=htmx).status_code == 200
    assert owner_client.get(reverse("ticket_new_preview"), {"reason": "²"}, headers=htmx).status_code == 200
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_a_reason_that_does_not_fit_the_service_is_refused(owner_client, hosting):
    dns = InterventionType.objects.get(code="domains-records-update")
    response = _open(owner_client, service=hosting.pk, reason=dns.pk)
    assert response.status_code == 200
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_a_retired_reason_is_not_offered_but_stays_on_its_tickets(owner_client, owner, customer, site_down):
    ticket = new_ticket(owner, site_down)
    site_down.is_active = False
    site_down.save()
    assert "Website not reachable" not in owner_client.get(reverse("ticket_new")).content.decode()
    assert "Website not reachable" in owner_client.get(ticket.get_absolute_url()).content.decode()
    assert _open(owner_client, reason=site_down.pk).status_code == 200
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_another_customers_service_cannot_be_named(owner_client, other_customer, site_down):
    foreign = ServiceFactory(customer=other_customer)
    _open(owner_client, service=foreign.pk, reason=site_down.pk)
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_attachments_are_stored_and_served_only_to_the_customer(owner_client, other_client, site_down):
    upload = SimpleUploadedFile("error.txt", b"Traceback...", content_type="text/plain")
    _open(owner_client, reason=site_down.pk, files=[upload])
    ticket = Ticket.objects.get()
    attachment = ticket.attachments.get()
    assert attachment.original_name == "error.txt" and attachment.size == 12
    response = owner_client.get(attachment.get_absolute_url())
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"Traceback..."
    assert response["Content-Disposition"].startswith("attachment")
    assert other_client.get(attachment.get_absolute_url()).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content_type", "size"),
    [
        ("virus.exe", "application/octet-stream", 10),
        ("page.html", "text/html", 10),
        ("big.pdf", "application/pdf", 11 * 1024 * 1024),
    ],
)
def test_attachments_of_other_types_or_too_large_are_refused_with_a_message(
    owner_client, site_down, name, content_type, size
):
    upload = SimpleUploadedFile(name, b"x" * size, content_type=content_type)
    response = _open(owner_client, reason=site_down.pk, files=[upload])
    assert response.status_code == 200
    assert name in response.content.decode()
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_the_list_filters_by_status_kind_and_service_and_searches(owner_client, owner, customer, hosting, site_down):
    coding = InterventionType.objects.get(code="hosting-coding")
    a = tickets.open_ticket(customer=customer, opened_by=owner, reason=site_down, priority="standard",
                            subject="Site is down", description="down", service=hosting)  # fmt: skip
    b = tickets.open_ticket(customer=customer, opened_by=owner, reason=coding, priority="standard",
                            subject="PHP question", description="how")  # fmt: skip
    tickets.close(ticket=b, by=owner)
    url = reverse("ticket_list")
    assert a.number in owner_client.get(url).content.decode()
    assert b.number not in owner_client.get(url).content.decode()  # open tickets by default
    assert b.number in owner_client.get(url, {"status": "closed"}).content.decode()
    assert b.number in owner_client.get(url, {"status": "all", "kind": "information"}).content.decode()
    assert a.number not in owner_client.get(url, {"status": "all", "kind": "information"}).content.decode()
    assert a.number in owner_client.get(url, {"service": hosting.pk}).content.decode()
    assert b.number in owner_client.get(url, {"status": "all", "q": "php"}).content.decode()
    fragment = owner_client.get(url, {"q": "down"}, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="ticket-table"') and a.number in fragment


def test_the_service_filter_offers_only_the_customers_services_named_with_their_kind(
    owner_client, hosting, other_customer
):
    ServiceFactory(customer=other_customer, name="www.globex.example", plan=PlanFactory(kind=Kind.SHARED_HOSTING))
    page = owner_client.get(reverse("ticket_list"), {"service": hosting.pk}).content.decode()
    assert f'<option value="{hosting.pk}" selected>www.acme.example (Shared web hosting)</option>' in page
    assert "www.globex.example" not in page


@pytest.mark.django_db
def test_the_customer_list_uses_as_many_queries_for_2000_tickets_as_for_20(
    owner_client, owner, customer, site_down, django_assert_max_num_queries
):
    from tests.factories import make_tickets

    make_tickets(customer=customer, reason=site_down, opened_by=owner, count=20)
    owner_client.get(reverse("ticket_list"))
    with django_assert_max_num_queries(12) as few:
        owner_client.get(reverse("ticket_list"))
    make_tickets(customer=customer, reason=site_down, opened_by=owner, count=1980)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = owner_client.get(reverse("ticket_list"))
    assert "Page 1 of 80" in response.content.decode()


@pytest.mark.django_db
def test_a_remark_is_appended_in_place_with_htmx_and_staff_are_told(
    owner_client, owner, customer, site_down, staff_user, django_capture_on_commit_callbacks
):
    ticket = new_ticket(owner, site_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("ticket_remark", args=[ticket.number]), {"body": "Still down"}, headers={"HX-Request": "true"}
        )
    body = response.content.decode()
    assert body.lstrip().startswith('<li class="remark remark-customer"') and "Still down" in body
    assert mail.outbox[-1].subject.startswith(f"[{ticket.number}] New remark from the customer")


@pytest.mark.django_db
def test_an_empty_remark_shows_the_form_again_with_the_error(owner_client, owner, customer, site_down):
    ticket = new_ticket(owner, site_down)
    response = owner_client.post(
        reverse("ticket_remark", args=[ticket.number]), {"body": ""}, headers={"HX-Request": "true"}
    )
    assert response["HX-Retarget"] == "#remark-form"
    assert 'aria-invalid="true"' in response.content.decode()


@pytest.mark.django_db
def test_internal_notes_are_never_shown_to_the_customer(owner_client, owner, customer, site_down, staff_user):
    ticket = new_ticket(owner, site_down)
    tickets.add_staff_reply(ticket=ticket, author=staff_user, body="Customer seems confused", internal=True)
    tickets.add_staff_reply(ticket=ticket, author=staff_user, body="We are on it")
    body = owner_client.get(ticket.get_absolute_url()).content.decode()
    assert "We are on it" in body and "Customer seems confused" not in body


@pytest.mark.django_db
def test_the_thread_shows_each_remarks_files_but_never_those_of_internal_notes(
    owner_client, owner, site_down, staff_user
):
    def upload(name):
        return [SimpleUploadedFile(name, b"data", content_type="text/plain")]

    ticket = new_ticket(owner, site_down, files=upload("opening.txt"))
    tickets.add_staff_reply(ticket=ticket, author=staff_user, body="Note", internal=True, files=upload("secret.txt"))
    tickets.add_staff_reply(ticket=ticket, author=staff_user, body="Fixed", files=upload("reply.txt"))
    fragment = owner_client.post(
        reverse("ticket_remark", args=[ticket.number]), {"body": "Thanks", "files": upload("mine.txt")},
        headers={"HX-Request": "true"},
    ).content.decode()  # fmt: skip
    body = owner_client.get(ticket.get_absolute_url()).content.decode()
    assert "mine.txt" in fragment and "Thanks" in fragment
    assert all(name in body for name in ["opening.txt", "reply.txt", "mine.txt"]) and "secret.txt" not in body
    assert body.index("opening.txt") < body.index("Fixed") < body.index("reply.txt") < body.index("Thanks")


@pytest.mark.django_db
def test_the_customer_closes_and_reopens_within_14_days_but_not_after(owner_client, owner, customer, site_down):
    start = datetime.datetime(2026, 11, 2, 10, 0, tzinfo=BRUSSELS)
    with time_machine.travel(start, tick=False):
        ticket = new_ticket(owner, site_down)
        owner_client.post(reverse("ticket_close", args=[ticket.number]))
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    with time_machine.travel(start + datetime.timedelta(days=14), tick=False):
        owner_client.post(reverse("ticket_reopen", args=[ticket.number]))
        owner_client.post(reverse("ticket_close", args=[ticket.number]))
    ticket.refresh_from_db()
    with time_machine.travel(start + datetime.timedelta(days=28, seconds=1), tick=False):
        response = owner_client.post(reverse("ticket_reopen", args=[ticket.number]), follow=True)
    assert "too long ago" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    history = list(ticket.events.values_list("field", "new_value"))
    assert ("status", "Closed") in history and ("status", "In progress") in history


@pytest.mark.django_db
def test_a_technical_member_opens_tickets_but_a_billing_contact_does_not(technical_client, billing_member, site_down):
    from tests.conftest import client_for

    assert technical_client.get(reverse("ticket_new")).status_code == 200
    billing = client_for(billing_member)
    assert billing.get(reverse("ticket_list")).status_code == 200
    assert billing.get(reverse("ticket_new")).status_code == 403


@pytest.mark.django_db
def test_art_7_3_the_customer_grants_and_revokes_staff_access_for_a_ticket(owner_client, owner, customer, site_down):
    ticket = new_ticket(owner, site_down)
    owner_client.post(reverse("ticket_access", args=[ticket.number]), {"action": "grant"})
    assert "Granted" in owner_client.get(ticket.get_absolute_url()).content.decode()
    owner_client.post(reverse("ticket_access", args=[ticket.number]), {"action": "revoke"})
    assert "Not granted" in owner_client.get(ticket.get_absolute_url()).content.decode()
    actions = list(AuditEvent.objects.filter(customer=customer).values_list("action", flat=True))
    assert "staff_access.granted" in actions and "staff_access.revoked" in actions


@pytest.mark.django_db
def test_art_7_3_a_tickets_access_ends_when_the_ticket_is_closed(owner_client, owner, customer, site_down):
    ticket = new_ticket(owner, site_down)
    owner_client.post(reverse("ticket_access", args=[ticket.number]), {"action": "grant"})
    tickets.close(ticket=ticket, by=owner)
    assert access.grant_for_ticket(ticket) is None
    assert not access.active_grants(customer).exists()


@pytest.mark.django_db
def test_art_7_3_customer_wide_access_is_for_a_limited_time(owner_client, owner, customer, site_down):
    ticket = new_ticket(owner, site_down)
    start = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=BRUSSELS)
    with time_machine.travel(start, tick=False):
        owner_client.post(reverse("staff_access"), {"duration": "1d"})
        assert "Granted" in owner_client.get(ticket.get_absolute_url()).content.decode()
    with time_machine.travel(start + datetime.timedelta(days=1, minutes=1), tick=False):
        assert "Not granted" in owner_client.get(ticket.get_absolute_url()).content.decode()
        assert "Expired" in owner_client.get(reverse("staff_access")).content.decode()
