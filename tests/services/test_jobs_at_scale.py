"""The nightly jobs over many rows: their queries grow with batches, not rows (issue 8, item 4).

Each job is run on 20 and on 200 rows due, with batches of 50 (one batch, then four), from the same
starting state (the rows are built and the job run inside a savepoint rolled back afterwards). The
difference in queries is bounded by a constant per extra batch: a batch locks, reads, claims and
writes its rows in a fixed number of queries, whatever their number. The other tests here check that
batching keeps the rules: each e-mail to the right people once, a claimed notice not sent again, a
failing item not stopping the others, a dry run recording nothing.
"""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent
from accounts.roles import Role
from billing.models import Invoice, InvoiceLine
from services import lifecycle, notices, renewals
from services.jobs import recorded
from services.models import (
    Certificate,
    CertificateNotice,
    CertificateRequest,
    JobRun,
    Kind,
    Service,
    ServiceEvent,
    ServiceNotice,
)
from tests.factories import CustomerFactory, MembershipFactory, PlanFactory

BRUSSELS = ZoneInfo("Europe/Brussels")
TODAY = datetime.date(2026, 11, 27)
NOW = datetime.datetime(2026, 11, 27, 2, 0, tzinfo=BRUSSELS)
BATCH = 50

# Queries a batch costs at most, whatever its number of rows (its savepoint and release included).
PER_BATCH = {
    # the certificates, one insert of the notices, the recipients
    "send_certificate_expiry_notices": 5,
    # lock and read the services; invoices.issue_many in a savepoint: the counter (get or create, add the
    # block, lock), the communications taken, one insert each of invoices, lines and audit events; the
    # recipients; one insert of the history notes
    "issue_renewal_invoices": 16,
    # lock and read the services, their renewal lines and active add-ons; lifecycle.stop_many (one update per
    # status, the add-ons locked and ended, one insert each of history and audit); the notes, the notices sent,
    # one insert of the new ones, the recipients. (The reminders' batches cost less: 7.)
    "expire_unpaid": 17,
}


@pytest.fixture(autouse=True)
def batches_of_50(settings):
    settings.JOBS_BATCH_SIZE = BATCH


def customers(n: int) -> list:
    """``n`` customers with an owner, a technical and a billing member (who each e-mail goes to)."""
    made = []
    for i in range(n):
        customer = CustomerFactory(name=f"Scale{i} SRL")
        MembershipFactory(customer=customer, role=Role.OWNER, user__email=f"owner{i}@scale.example")
        MembershipFactory(customer=customer, role=Role.TECHNICAL, user__email=f"tech{i}@scale.example")
        MembershipFactory(customer=customer, role=Role.BILLING, user__email=f"billing{i}@scale.example")
        made.append(customer)
    return made


def at_noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=BRUSSELS)


# Rows due on TODAY, for each job


def certificates_due(n: int) -> None:
    """``n`` issued certificates of ``n // 10`` customers expiring in 1, 7, 14 or 30 days."""
    owners = customers(max(1, n // 10))
    requests = CertificateRequest.objects.bulk_create(
        CertificateRequest(
            customer=owners[i % len(owners)], names=[f"c{i}.scale.example"], status=CertificateRequest.Status.ISSUED,
            key_source=CertificateRequest.KeySource.GENERATED, csr_pem="-----BEGIN CERTIFICATE REQUEST-----",
        )
        for i in range(n)
    )  # fmt: skip
    Certificate.objects.bulk_create(
        Certificate(
            request=request, pem="-----BEGIN CERTIFICATE-----", subject=f"CN={request.names[0]}", issuer="CN=Demo CA",
            serial_number=str(i), names=request.names, not_after=at_noon(TODAY + datetime.timedelta(days=days)),
            not_before=at_noon(TODAY - datetime.timedelta(days=300)), key_type="EC", key_size=256,
        )
        for i, (request, days) in enumerate(zip(requests, [1, 7, 14, 30] * n, strict=False))
    )  # fmt: skip


def renewals_due(n: int) -> None:
    """``n`` services of ``n // 4`` customers ending within 30 days: most renew (several on one invoice),
    one in ten has auto-renew off (its end is announced), one in twenty is an add-on of the one before."""
    owners = customers(max(1, n // 4))
    hosting = PlanFactory(kind=Kind.SHARED_HOSTING, name="Scale hosting", price=Decimal("120.00"))
    cache = PlanFactory(
        kind=Kind.CACHING, name="Scale cache", price=Decimal("24.00"), requires_kind=Kind.SHARED_HOSTING
    )
    made: list[Service] = []
    for i in range(n):
        addon = i % 20 == 19
        made.append(
            Service.objects.create(
                customer=owners[i // 4 % len(owners)], plan=cache if addon else hosting, name=f"s{i}.scale.example",
                status=Service.Status.ACTIVE, current_period_end=TODAY + datetime.timedelta(days=10 + i % 3),
                auto_renew=i % 10 != 0, parent=made[-1] if addon else None,
            )
        )  # fmt: skip


def expiries_due(n: int) -> None:
    """``n`` services whose period ended unpaid (hostings with an add-on, domains, certificate contracts,
    some with auto-renew off), and ``n // 2`` whose renewal invoice is unpaid 1, 7 or 10 days before the end."""
    owners = customers(max(1, n // 4))
    plans = {
        kind: PlanFactory(kind=kind, name=f"Scale {kind}", price=Decimal("12.00"), requires_kind=required)
        for kind, required in [
            (Kind.SHARED_HOSTING, ""), (Kind.CACHING, Kind.SHARED_HOSTING), (Kind.DOMAIN, ""),
            (Kind.SSL_CERTIFICATE, ""),
        ]
    }  # fmt: skip
    kinds = [Kind.SHARED_HOSTING, Kind.CACHING, Kind.DOMAIN, Kind.SSL_CERTIFICATE, Kind.DOMAIN]
    made: list[Service] = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        made.append(
            Service.objects.create(
                customer=made[-1].customer if kind == Kind.CACHING else owners[i % len(owners)], plan=plans[kind],
                name=f"e{i}.scale.example", status=Service.Status.ACTIVE, auto_renew=i % 7 != 0,
                current_period_end=TODAY - datetime.timedelta(days=1 + i % 3),
                parent=made[-1] if kind == Kind.CACHING else None,
            )
        )  # fmt: skip
    for i in range(n // 2):
        Service.objects.create(
            customer=owners[i % len(owners)], plan=plans[Kind.DOMAIN], name=f"r{i}.scale.example",
            status=Service.Status.ACTIVE, current_period_end=TODAY + datetime.timedelta(days=[1, 7, 10][i % 3]),
        )  # fmt: skip
    renewals.issue_renewal_invoices(today=TODAY - datetime.timedelta(days=20), now=NOW)  # unpaid, as a rule


JOBS = {
    "send_certificate_expiry_notices": (
        certificates_due, lambda: notices.send_certificate_expiry_notices(today=TODAY, now=NOW)
    ),
    "issue_renewal_invoices": (renewals_due, lambda: renewals.issue_renewal_invoices(today=TODAY, now=NOW)),
    "expire_unpaid": (expiries_due, lambda: renewals.expire_unpaid(today=TODAY, now=NOW)),
}  # fmt: skip


def measured(job: str, rows: int) -> tuple[int, object]:
    """(queries, run) of ``job`` on ``rows`` rows due, from the same starting state every time."""
    build, run_job = JOBS[job]
    with transaction.atomic():
        build(rows)
        with CaptureQueriesContext(connection) as queries:
            run = run_job()
        transaction.set_rollback(True)
    assert not run.errors and "failed" not in run.counts, run.errors
    return len(queries), run


@pytest.mark.django_db
@pytest.mark.parametrize("job", list(JOBS))
def test_a_jobs_queries_grow_with_its_batches_not_its_rows(job):
    small_queries, small = measured(job, 20)
    large_queries, large = measured(job, 200)

    assert sum(large.counts.values()) > 5 * sum(small.counts.values()) / 2  # it did ten times the work
    extra_batches = large.batches - small.batches
    assert extra_batches >= 2  # 200 rows: four batches of 50 (renewals: of up to 50 invoices)
    assert large_queries - small_queries <= PER_BATCH[job] * extra_batches, (small_queries, large_queries)
    assert large_queries - small_queries < 200 - 20  # not one query per row


@pytest.mark.django_db
def test_certificate_notices_in_batches_send_one_email_per_certificate_to_its_own_customer(
    settings, django_capture_on_commit_callbacks
):
    settings.JOBS_BATCH_SIZE = 3
    certificates_due(10)  # one customer

    with django_capture_on_commit_callbacks(execute=True):
        run = notices.send_certificate_expiry_notices(today=TODAY, now=NOW)
        again = notices.send_certificate_expiry_notices(today=TODAY, now=NOW)

    assert run.batches == 4 and again.counts == {}
    assert run.counts == {"sent (1 days)": 3, "sent (7 days)": 3, "sent (14 days)": 2, "sent (30 days)": 2}
    assert CertificateNotice.objects.count() == len(mail.outbox) == 10
    assert {tuple(sorted(m.to)) for m in mail.outbox} == {("owner0@scale.example", "tech0@scale.example")}
    assert sorted(m.subject for m in mail.outbox)[0] == "Your SSL certificate for c0.scale.example expires in 1 day"


@pytest.mark.django_db
def test_a_notice_claimed_meanwhile_in_a_batch_is_not_sent_again_and_the_rest_of_the_batch_is(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    certificates_due(6)
    taken = Certificate.objects.order_by("pk").first()
    monkeypatch.setattr(
        notices, "pace", lambda: CertificateNotice.objects.get_or_create(certificate=taken, days_before=1)
    )  # another worker, in the middle of the batch

    with django_capture_on_commit_callbacks(execute=True):
        run = notices.send_certificate_expiry_notices(today=TODAY, now=NOW)

    assert run.counts["already sent"] == 1 and sum(run.counts.values()) == 6 and not run.errors
    assert len(mail.outbox) == 5 and CertificateNotice.objects.count() == 6


@pytest.mark.django_db
def test_renewals_in_batches_issue_one_invoice_per_customer_and_day_numbered_without_gaps(
    settings, django_capture_on_commit_callbacks
):
    settings.JOBS_BATCH_SIZE = 4
    renewals_due(40)

    with django_capture_on_commit_callbacks(execute=True):
        run = renewals.issue_renewal_invoices(today=TODAY, now=NOW)
        again = renewals.issue_renewal_invoices(today=TODAY, now=NOW)

    invoices = list(Invoice.objects.order_by("number"))
    assert [invoice.number for invoice in invoices] == [f"2026-{n:05d}" for n in range(1, len(invoices) + 1)]
    assert len({invoice.structured_communication for invoice in invoices}) == len(invoices)
    for invoice in invoices:
        lines = list(invoice.lines.select_related("service"))
        assert len({(line.service.customer_id, line.period_start) for line in lines}) == 1
        assert invoice.customer_id == lines[0].service.customer_id
        assert invoice.total == invoice.subtotal + invoice.vat_amount
    assert run.counts == {"invoices issued": len(invoices), "renewals invoiced": 36, "end announced": 4}
    assert again.counts == {}
    assert InvoiceLine.objects.count() == 36
    assert AuditEvent.objects.filter(action="invoice.issued").count() == len(invoices)
    assert ServiceEvent.objects.filter(field=ServiceEvent.Field.NOTE).count() == 40
    assert ServiceNotice.objects.filter(kind=notices.END_ANNOUNCED).count() == 4
    invoice_mails = [m for m in mail.outbox if m.subject.endswith("the renewal of your services")]
    assert len(invoice_mails) == len(invoices)
    first = invoices[0]
    (mailed,) = [m for m in invoice_mails if m.subject.startswith(f"Invoice {first.number}:")]
    assert set(mailed.to) == {
        first.customer.billing_email, *first.customer.memberships.exclude(role=Role.TECHNICAL).values_list(
            "user__email", flat=True
        )
    }  # fmt: skip
    assert all(f"- {line.description}:" in mailed.body for line in first.lines.all())


@pytest.mark.django_db
def test_expiry_in_batches_stops_each_service_once_ends_its_addons_and_tells_each_customer_once(
    settings, django_capture_on_commit_callbacks
):
    settings.JOBS_BATCH_SIZE = 3
    expiries_due(20)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        run = renewals.expire_unpaid(today=TODAY, now=NOW)
        again = renewals.expire_unpaid(today=TODAY, now=NOW)

    ended = Service.objects.filter(name__startswith="e")
    hostings = ended.filter(plan__kind=Kind.SHARED_HOSTING)
    assert set(ended.filter(plan__kind=Kind.CACHING).values_list("status", flat=True)) == {Service.Status.ENDED}
    assert set(ended.filter(plan__kind=Kind.DOMAIN).values_list("status", flat=True)) == {Service.Status.EXPIRED}
    for hosting in hostings:
        assert hosting.status == (Service.Status.SUSPENDED if hosting.auto_renew else Service.Status.ENDED)
        (addon,) = hosting.addons.all()
        assert list(addon.events.values_list("field", "new_value"))[-2:] == [
            (ServiceEvent.Field.STATUS, "Ended"),
            (ServiceEvent.Field.NOTE, f"Ended with its shared hosting {hosting.name} (art. 3.2.3, 3.3.2)."),
        ]
        assert [e.field for e in hosting.events.all()][-2:] == [ServiceEvent.Field.STATUS, ServiceEvent.Field.NOTE]
    assert AuditEvent.objects.filter(action="service.status_changed").count() == 20
    assert run.counts == {"suspended": 3, "ended (not renewed)": 1, "expired": 12, "reminders sent": 10}
    assert again.counts == {}
    expired_mails = [m for m in mail.outbox if " is suspended" in m.subject or " has " in m.subject]
    assert len(expired_mails) == ServiceNotice.objects.filter(kind=notices.EXPIRED).count() == 12  # no certificate
    reminder_mails = [m for m in mail.outbox if "is unpaid: renewal due by" in m.subject]
    assert len(reminder_mails) == 10
    suspended = hostings.filter(status=Service.Status.SUSPENDED).first()
    (told,) = [m for m in expired_mails if m.subject == f"{suspended.name} is suspended"]
    assert f"- {suspended.addons.get().name} (Caching)" in told.body and "renewal invoice" in told.body
    assert "tech" in " ".join(told.to) and suspended.customer.billing_email in told.to


@pytest.mark.django_db
def test_an_addon_paid_but_not_extended_yet_ends_with_its_unpaid_hosting_in_the_same_batch():
    (customer,) = customers(1)
    hosting = Service.objects.create(
        customer=customer, plan=PlanFactory(kind=Kind.SHARED_HOSTING), name="www.scale.example",
        status=Service.Status.ACTIVE, current_period_end=TODAY - datetime.timedelta(days=1),
    )  # fmt: skip
    addon = Service.objects.create(
        customer=customer, plan=PlanFactory(kind=Kind.CACHING, requires_kind=Kind.SHARED_HOSTING), name="cache",
        status=Service.Status.ACTIVE, current_period_end=TODAY - datetime.timedelta(days=2), parent=hosting,
    )  # fmt: skip
    renewals.issue_renewal_invoices(today=TODAY - datetime.timedelta(days=20), now=NOW)
    Invoice.objects.filter(lines__service=addon).update(status=Invoice.Status.PAID)  # the hook did not run

    run = renewals.expire_unpaid(today=TODAY, now=NOW)

    hosting.refresh_from_db()
    addon.refresh_from_db()
    assert (hosting.status, addon.status) == (Service.Status.SUSPENDED, Service.Status.ENDED)
    assert addon.current_period_end == TODAY - datetime.timedelta(days=2)  # not extended: staff decide (late payment)
    assert run.counts == {"suspended": 1}
    assert renewals.late_payment(addon) is not None


@pytest.mark.django_db
def test_a_failing_service_in_a_batch_is_reported_and_the_rest_of_its_batch_expires(settings, monkeypatch):
    expiries_due(10)
    bad = Service.objects.get(name="e2.scale.example")  # a domain
    set_status, stop_many = lifecycle.set_status, lifecycle.stop_many

    def flaky(*, service, **kwargs):
        if service.pk == bad.pk:
            raise RuntimeError("registry unreachable")
        return set_status(service=service, **kwargs)

    def flaky_batch(*, changes, **kwargs):
        if any(service.pk == bad.pk for service, _status in changes):
            raise RuntimeError("registry unreachable")
        return stop_many(changes=changes, **kwargs)

    monkeypatch.setattr(lifecycle, "set_status", flaky)
    monkeypatch.setattr(lifecycle, "stop_many", flaky_batch)

    run = renewals.expire_unpaid(today=TODAY, now=NOW)

    assert run.errors == ["e2.scale.example (Domain name): RuntimeError: registry unreachable"]
    assert run.counts["failed"] == 1
    bad.refresh_from_db()
    assert bad.status == Service.Status.ACTIVE
    others = Service.objects.filter(name__startswith="e").exclude(pk=bad.pk)
    assert not others.filter(status=Service.Status.ACTIVE).exists()
    assert JobRun.objects.get(job="expire_unpaid").errors == run.errors


@pytest.mark.django_db
@pytest.mark.parametrize("job", list(JOBS))
def test_a_dry_run_in_batches_records_nothing_and_counts_what_the_run_does(job, django_capture_on_commit_callbacks):
    build, _run = JOBS[job]
    build(60)
    before = (Invoice.objects.count(), ServiceEvent.objects.count(), AuditEvent.objects.count())
    dry = {
        "send_certificate_expiry_notices": lambda: notices.send_certificate_expiry_notices(
            today=TODAY, now=NOW, dry_run=True
        ),
        "issue_renewal_invoices": lambda: renewals.issue_renewal_invoices(today=TODAY, now=NOW, dry_run=True),
        "expire_unpaid": lambda: renewals.expire_unpaid(today=TODAY, now=NOW, dry_run=True),
    }[job]
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        counted = dry()
    assert (Invoice.objects.count(), ServiceEvent.objects.count(), AuditEvent.objects.count()) == before
    assert not CertificateNotice.objects.exists() and mail.outbox == []
    assert counted.batches >= 2

    done = _run().counts
    if job == "expire_unpaid":  # a dry batch is rolled back: the next one counts add-ons whose hosting it stopped
        assert [done[k] for k in ("expired", "reminders sent")] == [
            counted.counts[k] for k in ("expired", "reminders sent")
        ]
    else:
        assert done == counted.counts


@pytest.mark.django_db
def test_a_batch_that_fails_is_done_again_item_by_item_and_counted_once():
    done = []

    def batch(items):
        if 3 in items:
            raise ValueError("three is bad")
        done.extend(items)
        return ["done"] * len(items)

    def item(n):
        if n == 3:
            raise ValueError("three is bad")
        done.append(n)
        return "done"

    with recorded("demo_job", for_date=TODAY) as run:
        run.each_batch(range(1, 8), batch=batch, item=item, size=3)

    assert run.batches == 3 and sorted(done) == [1, 2, 4, 5, 6, 7]
    assert run.counts == {"done": 6, "failed": 1} and run.errors == ["3: ValueError: three is bad"]
