"""Notices sent once: renewal reminders before an unpaid period ends, certificate expiry notices (art. 5.2.2)."""

import datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone

from accounts.roles import Role
from billing import payments
from billing.models import Invoice
from services import notices, renewals
from services.models import Certificate, CertificateNotice, CertificateRequest, Kind, ServiceNotice
from tests.factories import MembershipFactory, PlanFactory, ServiceFactory

BRUSSELS = ZoneInfo("Europe/Brussels")
END = datetime.date(2026, 12, 20)
TODAY = datetime.date(2026, 11, 27)


def at(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(2, 0), tzinfo=BRUSSELS)


def days_before(day: datetime.date, days: int) -> datetime.date:
    return day - datetime.timedelta(days=days)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a job, then its on-commit callbacks (the e-mails), as a real commit would."""

    def run(job, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return job(**kwargs)

    return run


# Renewal reminders (sent by expire_unpaid while the renewal invoice is unpaid)


@pytest.fixture
def invoiced_hosting(customer, owner, billing_member):
    plan = PlanFactory(kind=Kind.SHARED_HOSTING, name="Hosting Pro", price=Decimal("120.00"))
    hosting = ServiceFactory(customer=customer, plan=plan, name="www.acme.example", current_period_end=END)
    renewals.issue_renewal_invoices(today=TODAY, now=at(TODAY))
    return hosting


def reminders_sent() -> list[str]:
    return list(
        ServiceNotice.objects.filter(kind__startswith="reminder_").order_by("pk").values_list("kind", flat=True)
    )


@pytest.mark.django_db
def test_an_unpaid_renewal_is_reminded_14_7_and_1_days_before_the_end_once_each(invoiced_hosting, committed):
    day = TODAY
    while day <= END:
        committed(renewals.expire_unpaid, today=day, now=at(day))
        committed(renewals.expire_unpaid, today=day, now=at(day))  # twice a day: nothing more
        day += datetime.timedelta(days=1)

    assert reminders_sent() == ["reminder_14", "reminder_7", "reminder_1"]
    subjects = [m.subject for m in mail.outbox]
    invoice = Invoice.objects.get()
    assert subjects == [f"Invoice {invoice.number} is unpaid: renewal due by Dec. 20, 2026"] * 3
    first = mail.outbox[0]
    assert "www.acme.example (Shared web hosting)" in first.body
    assert invoice.communication_display in first.body and "art. 4.4.2" in first.body
    assert set(first.to) == {"owner@acme.example", "billing@acme.example", invoiced_hosting.customer.billing_email}


@pytest.mark.django_db
def test_a_missed_day_sends_only_the_nearest_reminder(invoiced_hosting, committed):
    committed(renewals.expire_unpaid, today=days_before(END, 5), now=at(days_before(END, 5)))

    assert reminders_sent() == ["reminder_7"]
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_no_reminder_once_the_renewal_is_paid(invoiced_hosting, committed):
    invoice = Invoice.objects.get()
    payments.record_payment(invoice=invoice, amount=invoice.total, received_on=TODAY)

    committed(renewals.expire_unpaid, today=days_before(END, 7), now=at(days_before(END, 7)))

    assert reminders_sent() == [] and mail.outbox == []


@pytest.mark.django_db
def test_the_reminder_of_a_customer_with_no_one_to_tell_is_recorded_without_an_email(customer, committed):
    customer.billing_email = ""
    customer.save()
    ServiceFactory(customer=customer, current_period_end=END)
    renewals.issue_renewal_invoices(today=TODAY, now=at(TODAY))

    committed(renewals.expire_unpaid, today=days_before(END, 14), now=at(days_before(END, 14)))

    assert reminders_sent() == ["reminder_14"] and mail.outbox == []


def test_the_nearest_threshold_is_the_smallest_one_reached():
    thresholds = [14, 7, 1]
    assert [notices.nearest_threshold(d, thresholds) for d in (20, 14, 13, 7, 5, 1, 0, -1)] == [
        None, 14, 14, 7, 7, 1, 1, None,
    ]  # fmt: skip


# Certificate expiry notices (art. 5.2.2)


def make_certificate(customer, *, expires: datetime.date, names=("www.acme.example", "acme.example"), **request):
    request = CertificateRequest.objects.create(
        customer=customer, names=list(names), status=request.pop("status", CertificateRequest.Status.ISSUED),
        key_source=CertificateRequest.KeySource.GENERATED, csr_pem="-----BEGIN CERTIFICATE REQUEST-----", **request,
    )  # fmt: skip
    not_after = datetime.datetime.combine(expires, datetime.time(13, 30), tzinfo=BRUSSELS)
    return Certificate.objects.create(
        request=request, pem="-----BEGIN CERTIFICATE-----", subject=f"CN={names[0]}", issuer="CN=Demo CA",
        serial_number="0A1B2C", names=list(names), not_before=not_after - datetime.timedelta(days=365),
        not_after=not_after, key_type="EC", key_size=256,
    )  # fmt: skip


@pytest.fixture
def people(customer, owner, technical_member, billing_member, other_owner):
    """Owner and technical member get the notices; the billing contact and other customers do not."""
    MembershipFactory(customer=customer, role=Role.ADMIN, user__email="admin@acme.example", user__is_active=False)


@pytest.fixture
def certificate(customer, people):
    return make_certificate(customer, expires=datetime.date(2027, 1, 31))


def notices_of(certificate: Certificate) -> list[int]:
    return sorted(certificate.notices.values_list("days_before", flat=True), reverse=True)


def run_every_day(committed, start: datetime.date, end: datetime.date, *, times: int = 1) -> None:
    day = start
    while day <= end:
        for _ in range(times):
            committed(notices.send_certificate_expiry_notices, today=day, now=at(day))
        day += datetime.timedelta(days=1)


@pytest.mark.django_db
def test_art_5_2_2_one_notice_per_threshold_to_the_owners_and_technical_members(certificate, committed):
    run_every_day(committed, datetime.date(2026, 12, 1), datetime.date(2027, 2, 5), times=2)

    assert notices_of(certificate) == [30, 14, 7, 1]
    assert [m.subject for m in mail.outbox] == [
        "Your SSL certificate for www.acme.example expires in 30 days",
        "Your SSL certificate for www.acme.example expires in 14 days",
        "Your SSL certificate for www.acme.example expires in 7 days",
        "Your SSL certificate for www.acme.example expires in 1 day",
    ]
    assert all(sorted(m.to) == ["owner@acme.example", "tech@acme.example"] for m in mail.outbox)
    sent = {n.days_before: timezone.localdate(n.sent_at) for n in CertificateNotice.objects.all()}
    assert sent[30] == datetime.date(2027, 1, 1) and sent[1] == datetime.date(2027, 1, 30)


@pytest.mark.django_db
def test_the_notice_names_the_certificate_its_names_its_expiry_and_the_renewal_link(certificate, committed):
    committed(
        notices.send_certificate_expiry_notices, today=datetime.date(2027, 1, 1), now=at(datetime.date(2027, 1, 1))
    )

    (message,) = mail.outbox
    assert "Your SSL certificate expires on Jan. 31, 2027, 1:30 p.m." in message.body
    assert "www.acme.example, acme.example" in message.body and "0A1B2C" in message.body
    assert f"http://127.0.0.1:8000/services/certificates/{certificate.request.pk}/" in message.body
    assert "art. 5.2.2" in message.body
    html = message.alternatives[0].content
    assert f'href="http://127.0.0.1:8000/services/certificates/{certificate.request.pk}/"' in html


@pytest.mark.django_db
def test_a_missed_day_catches_up_with_the_nearest_threshold_only(certificate, committed):
    run = committed(
        notices.send_certificate_expiry_notices, today=datetime.date(2027, 1, 26), now=at(datetime.date(2027, 1, 26))
    )

    assert notices_of(certificate) == [7]
    assert len(mail.outbox) == 1 and run.counts == {"sent (7 days)": 1}


@pytest.mark.django_db
def test_a_replaced_revoked_or_expired_certificate_gets_no_notice(customer, people, committed):
    expires = datetime.date(2027, 1, 10)
    make_certificate(customer, expires=expires, status=CertificateRequest.Status.REPLACED)
    make_certificate(customer, expires=expires, status=CertificateRequest.Status.REVOKED)
    revoked = make_certificate(customer, expires=expires)
    Certificate.objects.filter(pk=revoked.pk).update(revoked_at=at(datetime.date(2026, 12, 1)))
    make_certificate(customer, expires=datetime.date(2026, 12, 30))  # expired before the run

    run = committed(
        notices.send_certificate_expiry_notices, today=datetime.date(2027, 1, 3), now=at(datetime.date(2027, 1, 3))
    )

    assert not CertificateNotice.objects.exists() and mail.outbox == []
    assert run.counts == {}


@pytest.mark.django_db
def test_only_the_latest_certificate_of_a_request_is_current(certificate):
    newer = Certificate.objects.get(pk=certificate.pk)
    newer.pk, newer.not_after = None, certificate.not_after + datetime.timedelta(days=365)
    newer.save()

    assert list(notices.current_certificates()) == [newer]


@pytest.mark.django_db
def test_the_constraint_refuses_a_second_notice_for_one_threshold(certificate):
    CertificateNotice.objects.create(certificate=certificate, days_before=30)
    with pytest.raises(IntegrityError):
        CertificateNotice.objects.create(certificate=certificate, days_before=30)


@pytest.mark.django_db
def test_a_notice_claimed_meanwhile_by_another_worker_is_not_sent_again(certificate, committed, monkeypatch):
    monkeypatch.setattr(
        notices, "pace", lambda: CertificateNotice.objects.get_or_create(certificate=certificate, days_before=30)
    )

    run = committed(
        notices.send_certificate_expiry_notices, today=datetime.date(2027, 1, 1), now=at(datetime.date(2027, 1, 1))
    )

    assert run.counts == {"already sent": 1} and mail.outbox == []


@pytest.mark.django_db
def test_the_certificate_notices_query_count_does_not_grow_with_certificates(
    customer, people, django_assert_max_num_queries
):
    for n in range(3):
        make_certificate(customer, expires=datetime.date(2027, 1, 10), names=[f"a{n}.example"])
    with django_assert_max_num_queries(3):
        assert len(notices.certificates_due(datetime.date(2027, 1, 1), [30, 14, 7, 1])) == 3
    for n in range(30):
        make_certificate(customer, expires=datetime.date(2027, 1, 10), names=[f"b{n}.example"])
    with django_assert_max_num_queries(3):
        assert len(notices.certificates_due(datetime.date(2027, 1, 1), [30, 14, 7, 1])) == 33


@pytest.mark.django_db
def test_the_command_sends_the_notices_of_the_date(certificate):
    out = StringIO()
    call_command("send_certificate_expiry_notices", "--date", "2027-01-17", stdout=out)

    assert out.getvalue() == "send_certificate_expiry_notices: 1 sent (14 days).\n"
    assert notices_of(certificate) == [14]
