"""Prepaid renewals: invoices for the next period, extension once paid, expiry when unpaid (issue 7).

Art. 3.4.1 (hosting: one year, renewed once paid), 4.4.1 (domains: whole years, renewed once paid),
4.4.2 (an unrenewed domain is released), 5.2.2 (a certificate renews by a new request, not by invoice).
"""

import datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.urls import reverse

from billing import payments
from billing.models import Invoice, InvoiceLine
from services import lifecycle, notices, renewals, tasks
from services.models import JobRun, Kind, Service, ServiceEvent, ServiceNotice
from services.registry import ManualRegistry
from tests.conftest import client_for
from tests.factories import PlanFactory, ServiceFactory

BRUSSELS = ZoneInfo("Europe/Brussels")
END = datetime.date(2026, 12, 20)  # the current period of the services below ends on this day
TODAY = datetime.date(2026, 11, 27)  # 23 days before: within the 30 days of RENEWAL_INVOICE_DAYS
NOW = datetime.datetime(2026, 11, 27, 2, 0, tzinfo=BRUSSELS)


def at(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(2, 0), tzinfo=BRUSSELS)


@pytest.fixture
def hosting(customer, owner, billing_member, technical_member):
    plan = PlanFactory(kind=Kind.SHARED_HOSTING, name="Hosting Pro", price=Decimal("120.00"))
    return ServiceFactory(customer=customer, plan=plan, name="www.acme.example", current_period_end=END)


@pytest.fixture
def addon(hosting):
    plan = PlanFactory(kind=Kind.CACHING, name="Cache", price=Decimal("24.00"), requires_kind=Kind.SHARED_HOSTING)
    return ServiceFactory(customer=hosting.customer, plan=plan, parent=hosting, name="cache", current_period_end=END)


@pytest.fixture
def domain(customer, owner):
    plan = PlanFactory(kind=Kind.DOMAIN, name=".be", price=Decimal("12.00"), specifications={})
    return ServiceFactory(customer=customer, plan=plan, name="acme.be", current_period_end=END)


def run_committed(django_capture_on_commit_callbacks, job, **kwargs):
    """Run a job and then its on-commit callbacks (the e-mails), as a real commit would."""
    with django_capture_on_commit_callbacks(execute=True):
        return job(**kwargs)


def renewal_lines(service: Service) -> list[InvoiceLine]:
    return list(InvoiceLine.objects.filter(service=service).select_related("invoice").order_by("period_start"))


def pay(invoice: Invoice, *, on: datetime.date, reference: str | None = None):
    invoice.refresh_from_db()
    return payments.record_payment(
        invoice=invoice, amount=invoice.total, received_on=on, bank_reference=reference, source="bank"
    )


# 1. Renewal invoices


@pytest.mark.django_db
def test_art_3_4_1_a_hosting_ending_within_30_days_gets_one_invoice_for_exactly_the_next_year(hosting):
    run = renewals.issue_renewal_invoices(today=TODAY, now=NOW)

    (line,) = renewal_lines(hosting)
    assert (line.period_start, line.period_end) == (END, datetime.date(2027, 12, 20))
    assert (line.unit_price, line.quantity, line.amount) == (Decimal("120.00"), 1, Decimal("120.00"))
    assert line.description == "Renewal of www.acme.example (Hosting Pro) from 2026-12-20 to 2027-12-20"
    assert line.invoice.issued_on == TODAY and line.invoice.customer == hosting.customer
    assert run.counts == {"invoices issued": 1, "renewals invoiced": 1}
    assert "Renewal invoice" in hosting.events.get(field=ServiceEvent.Field.NOTE).new_value
    hosting.refresh_from_db()
    assert hosting.current_period_end == END  # nothing is extended before the invoice is paid


@pytest.mark.django_db
def test_the_renewal_invoice_is_mailed_to_the_buyers_once(hosting, addon, django_capture_on_commit_callbacks):
    for _twice in range(2):
        run_committed(django_capture_on_commit_callbacks, renewals.issue_renewal_invoices, today=TODAY, now=NOW)

    invoice = Invoice.objects.get()
    (message,) = mail.outbox
    assert message.subject == f"Invoice {invoice.number}: the renewal of your services"
    assert "- Renewal of www.acme.example (Hosting Pro) from 2026-12-20 to 2027-12-20: 120.00 EUR" in message.body
    assert "- Renewal of cache (Cache)" in message.body
    assert invoice.communication_display in message.body and "only once it is paid" in message.body
    assert "tech@acme.example" not in message.to and "billing@acme.example" in message.to


@pytest.mark.django_db
def test_a_period_ending_later_than_the_setting_is_not_invoiced_yet(hosting, settings):
    settings.RENEWAL_INVOICE_DAYS = 20

    renewals.issue_renewal_invoices(today=TODAY, now=NOW)
    assert renewal_lines(hosting) == []

    renewals.issue_renewal_invoices(today=END - datetime.timedelta(days=20), now=NOW)
    assert len(renewal_lines(hosting)) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("period_months", "price", "years", "amount"),
    [(12, "12.00", 1, "12.00"), (24, "20.00", 2, "20.00"), (6, "7.00", 1, "14.00"), (18, "15.00", 2, "20.00")],
)
def test_art_4_4_1_a_domain_renews_by_whole_years_of_at_least_one(domain, period_months, price, years, amount):
    domain.plan.period_months, domain.plan.price = period_months, Decimal(price)
    domain.plan.save()

    renewals.issue_renewal_invoices(today=TODAY, now=NOW)

    (line,) = renewal_lines(domain)
    assert (line.period_start, line.period_end) == (END, END.replace(year=END.year + years))
    assert line.amount == Decimal(amount)


@pytest.mark.django_db
def test_art_5_2_2_certificates_and_microsoft_365_are_not_renewed_by_invoice(customer):
    certificate = ServiceFactory(
        customer=customer, plan=PlanFactory(kind=Kind.SSL_CERTIFICATE), current_period_end=END, auto_renew=True
    )
    pack = ServiceFactory(customer=customer, plan=PlanFactory(kind=Kind.M365_PACK, period_months=0), quantity=3)

    run = renewals.issue_renewal_invoices(today=TODAY, now=NOW)

    assert renewal_lines(certificate) == renewal_lines(pack) == []
    assert run.counts == {}


@pytest.mark.django_db
def test_a_customers_renewals_due_the_same_day_share_one_invoice(hosting, addon, domain, other_customer):
    elsewhere = ServiceFactory(customer=other_customer, current_period_end=END)

    run = renewals.issue_renewal_invoices(today=TODAY, now=NOW)

    (acme_invoice,) = Invoice.objects.filter(customer=hosting.customer)
    assert {line.service for line in acme_invoice.lines.all()} == {hosting, addon, domain}
    assert acme_invoice.subtotal == Decimal("156.00")
    assert len(renewal_lines(elsewhere)) == 1
    assert run.counts == {"invoices issued": 2, "renewals invoiced": 4}


@pytest.mark.django_db
def test_running_the_job_twice_issues_nothing_the_second_time(hosting, addon):
    renewals.issue_renewal_invoices(today=TODAY, now=NOW)
    second = renewals.issue_renewal_invoices(today=TODAY + datetime.timedelta(days=1), now=NOW)

    assert Invoice.objects.count() == 1 and InvoiceLine.objects.count() == 2
    assert second.counts == {}


@pytest.mark.django_db
def test_the_constraint_refuses_a_second_invoice_for_one_period(hosting):
    renewals.issue_renewal_invoices(today=TODAY, now=NOW)

    with pytest.raises(IntegrityError):
        InvoiceLine.objects.create(
            invoice=Invoice.objects.get(), description="again", unit_price=1, amount=1, service=hosting,
            period_start=END, period_end=END + datetime.timedelta(days=365),
        )  # fmt: skip


@pytest.mark.django_db
def test_a_period_a_concurrent_worker_invoiced_is_counted_and_the_other_lines_are_still_issued(hosting, domain):
    """The IntegrityError of the constraint is caught in a savepoint; its invoice number is given back."""
    taken = renewals.renewal_line(hosting)
    (first,), _ = renewals.issue_lines(customer=hosting.customer, lines=[taken], today=TODAY)

    issued, already = renewals.issue_lines(
        customer=hosting.customer, lines=[renewals.renewal_line(hosting), renewals.renewal_line(domain)], today=TODAY
    )

    assert already == 1
    (second,) = issued
    assert [line.service for line in second.lines.all()] == [domain]
    assert (first.number, second.number) == ("2026-00001", "2026-00002")  # no gap


@pytest.mark.django_db
def test_a_renewal_invoiced_meanwhile_by_another_worker_is_counted_as_already_invoiced(hosting, monkeypatch):
    def other_worker_first():
        if not InvoiceLine.objects.exists():
            renewals.issue_lines(customer=hosting.customer, lines=[renewals.renewal_line(hosting)], today=TODAY)

    monkeypatch.setattr(notices, "pace", other_worker_first)
    run = renewals.issue_renewal_invoices(today=TODAY, now=NOW)

    assert len(renewal_lines(hosting)) == 1
    assert run.counts == {"already invoiced": 1}


@pytest.mark.django_db
def test_an_addon_renews_while_its_hosting_does_not_when_the_hosting_ends_first(hosting, addon):
    Service.objects.filter(pk=hosting.pk).update(auto_renew=False)

    renewals.issue_renewal_invoices(today=TODAY, now=NOW)

    assert renewal_lines(addon) == []


@pytest.mark.django_db
def test_auto_renew_off_gets_no_invoice_but_the_end_date_once(hosting, addon, django_capture_on_commit_callbacks):
    Service.objects.filter(pk=hosting.pk).update(auto_renew=False)

    first = run_committed(django_capture_on_commit_callbacks, renewals.issue_renewal_invoices, today=TODAY, now=NOW)
    second = run_committed(django_capture_on_commit_callbacks, renewals.issue_renewal_invoices, today=TODAY, now=NOW)

    assert not Invoice.objects.exists()
    assert first.counts == {"end announced": 1} and second.counts == {}
    (message,) = mail.outbox
    assert message.subject == "www.acme.example ends on Dec. 20, 2026"
    assert "Automatic renewal is off" in message.body and "art. 3.5" in message.body
    assert "- cache (Caching)" in message.body  # the add-on ends with it: no mail of its own
    assert set(message.to) == {
        "owner@acme.example", "billing@acme.example", "tech@acme.example", hosting.customer.billing_email,
    }  # fmt: skip
    assert ServiceNotice.objects.get().kind == notices.END_ANNOUNCED


@pytest.mark.django_db
def test_art_4_4_2_the_end_announcement_of_a_domain_says_it_will_be_released(
    domain, django_capture_on_commit_callbacks
):
    Service.objects.filter(pk=domain.pk).update(auto_renew=False)
    run_committed(django_capture_on_commit_callbacks, renewals.issue_renewal_invoices, today=TODAY, now=NOW)
    assert "released" in mail.outbox[0].body and "art. 4.4.2" in mail.outbox[0].body


# 2. Extending prepaid periods


@pytest.fixture
def renewal_invoice(hosting) -> Invoice:
    renewals.issue_renewal_invoices(today=TODAY, now=NOW)
    return Invoice.objects.get()


@pytest.mark.django_db
def test_art_3_4_1_paying_the_renewal_extends_the_period_from_the_old_end_not_the_payment_date(
    hosting, renewal_invoice
):
    with time_machine.travel(at(datetime.date(2026, 12, 5)), tick=False):
        pay(renewal_invoice, on=datetime.date(2026, 12, 5))

    hosting.refresh_from_db()
    assert hosting.current_period_end == datetime.date(2027, 12, 20)
    period = hosting.events.filter(field=ServiceEvent.Field.PERIOD).get()
    assert period.new_value == "2026-12-20 → 2027-12-20"


@pytest.mark.django_db
def test_a_payment_imported_twice_or_marked_paid_twice_extends_the_period_once(hosting, renewal_invoice):
    pay(renewal_invoice, on=TODAY, reference="BANK-1")
    pay(renewal_invoice, on=TODAY, reference="BANK-1")
    payments.mark_paid(invoice=renewal_invoice)
    renewals.on_invoice_paid(Invoice.objects.get())  # the hook called again by mistake
    run = renewals.extend_prepaid_periods(now=NOW)

    hosting.refresh_from_db()
    assert hosting.current_period_end == datetime.date(2027, 12, 20)
    assert hosting.events.filter(field=ServiceEvent.Field.PERIOD).count() == 1
    assert run.counts == {}


@pytest.mark.django_db
def test_extend_prepaid_periods_catches_up_a_paid_renewal_whose_hook_did_not_run(hosting, renewal_invoice):
    Invoice.objects.filter(pk=renewal_invoice.pk).update(status=Invoice.Status.PAID)

    first = renewals.extend_prepaid_periods(now=NOW)
    second = renewals.extend_prepaid_periods(now=NOW)

    hosting.refresh_from_db()
    assert hosting.current_period_end == datetime.date(2027, 12, 20)
    assert first.counts == {"extended": 1} and second.counts == {}


@pytest.mark.django_db
def test_a_failing_extension_never_stops_the_payment(hosting, renewal_invoice, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("registry down")

    monkeypatch.setattr(renewals, "extend_period", broken)
    pay(renewal_invoice, on=TODAY)

    renewal_invoice.refresh_from_db()
    assert renewal_invoice.status == Invoice.Status.PAID  # and the job extends it later
    assert renewals.paid_not_extended().count() == 1


@pytest.mark.django_db
def test_art_4_4_2_a_paid_domain_renewal_left_to_staff_by_the_manual_registry_is_mailed_to_staff_once(
    domain, staff_user, django_capture_on_commit_callbacks
):
    renewals.issue_renewal_invoices(today=TODAY, now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        pay(Invoice.objects.get(), on=TODAY)
        renewals.extend_prepaid_periods(now=NOW)

    (message,) = [m for m in mail.outbox if m.to == ["staff@portal.example"]]
    assert message.subject == "Renew acme.be at the registry"
    assert "for 1 year (Dec. 20, 2026 to Dec. 20, 2027)" in message.body


class RegistryThatRenews(ManualRegistry):
    """An EPP-like backend that renews at once, and remembers what it was asked."""

    calls: list = []

    def renew(self, service, years):
        self.calls.append((service.name, years))
        return True


@pytest.mark.django_db
def test_a_registry_that_renews_by_itself_is_asked_once_and_staff_are_not_bothered(
    domain, settings, django_capture_on_commit_callbacks
):
    settings.DOMAIN_REGISTRY_BACKEND = "tests.services.test_renewals.RegistryThatRenews"
    RegistryThatRenews.calls = []
    renewals.issue_renewal_invoices(today=TODAY, now=NOW)
    Invoice.objects.update(status=Invoice.Status.PAID)  # paid; the hook did not run

    with django_capture_on_commit_callbacks(execute=True):
        renewals.extend_prepaid_periods(now=NOW, dry_run=True)  # a dry run asks the registry nothing
        assert RegistryThatRenews.calls == []
        renewals.extend_prepaid_periods(now=NOW)
        renewals.extend_prepaid_periods(now=NOW)

    assert RegistryThatRenews.calls == [("acme.be", 1)]
    assert not [m for m in mail.outbox if "registry" in m.subject]


@pytest.mark.django_db
def test_the_paid_hook_is_registered_once():
    assert payments.PAID_HOOKS.count(renewals.on_invoice_paid) == 1


# 3. Expiry


@pytest.mark.django_db
def test_a_service_is_still_active_on_the_last_day_of_its_period(hosting, domain):
    run = renewals.expire_unpaid(today=END, now=at(END))

    assert set(Service.objects.values_list("status", flat=True)) == {Service.Status.ACTIVE}
    assert "suspended" not in run.counts


@pytest.mark.django_db
def test_art_3_4_1_an_unpaid_hosting_is_suspended_the_day_after_its_period_and_its_addons_end(
    hosting, addon, renewal_invoice, django_capture_on_commit_callbacks
):
    day = END + datetime.timedelta(days=1)
    run = run_committed(django_capture_on_commit_callbacks, renewals.expire_unpaid, today=day, now=at(day))

    hosting.refresh_from_db()
    addon.refresh_from_db()
    assert (hosting.status, addon.status) == (Service.Status.SUSPENDED, Service.Status.ENDED)
    assert run.counts == {"suspended": 1}
    (message,) = mail.outbox
    assert message.subject == "www.acme.example is suspended"
    assert f"Its renewal invoice {renewal_invoice.number} is unpaid." in message.body
    assert "- cache (Caching)" in message.body
    assert "our staff will then either reactivate it" in message.body


@pytest.mark.django_db
def test_art_4_4_2_an_unpaid_domain_is_released_the_day_after_its_period(domain, django_capture_on_commit_callbacks):
    renewals.issue_renewal_invoices(today=TODAY, now=NOW)
    day = END + datetime.timedelta(days=1)
    run_committed(django_capture_on_commit_callbacks, renewals.expire_unpaid, today=day, now=at(day))

    domain.refresh_from_db()
    assert domain.status == Service.Status.EXPIRED
    assert mail.outbox[0].subject == "acme.be has expired"
    assert "art. 4.4.2" in mail.outbox[0].body


@pytest.mark.django_db
def test_the_customer_is_told_once_after_expiry_however_often_the_job_runs(hosting, django_capture_on_commit_callbacks):
    for offset in (1, 1, 2):
        day = END + datetime.timedelta(days=offset)
        run_committed(django_capture_on_commit_callbacks, renewals.expire_unpaid, today=day, now=at(day))

    assert len(mail.outbox) == 1
    assert ServiceNotice.objects.filter(kind=notices.EXPIRED).count() == 1
    assert hosting.events.filter(field=ServiceEvent.Field.STATUS).count() == 1


@pytest.mark.django_db
def test_a_hosting_whose_customer_turned_auto_renew_off_ends_rather_than_being_suspended(hosting):
    Service.objects.filter(pk=hosting.pk).update(auto_renew=False)
    day = END + datetime.timedelta(days=1)

    run = renewals.expire_unpaid(today=day, now=at(day))

    hosting.refresh_from_db()
    assert hosting.status == Service.Status.ENDED
    assert run.counts == {"ended (not renewed)": 1}


@pytest.mark.django_db
def test_a_paid_renewal_not_extended_yet_is_extended_rather_than_expired(hosting, renewal_invoice):
    Invoice.objects.filter(pk=renewal_invoice.pk).update(status=Invoice.Status.PAID)  # the hook did not run
    day = END + datetime.timedelta(days=1)

    run = renewals.expire_unpaid(today=day, now=at(day))

    hosting.refresh_from_db()
    assert (hosting.status, hosting.current_period_end) == (Service.Status.ACTIVE, datetime.date(2027, 12, 20))
    assert run.counts == {"extended": 1}


@pytest.mark.django_db
def test_art_5_2_1_a_certificate_contract_expires_with_its_certificate_without_a_renewal_email(
    customer, owner, django_capture_on_commit_callbacks
):
    certificate = ServiceFactory(customer=customer, plan=PlanFactory(kind=Kind.SSL_CERTIFICATE), auto_renew=False)
    day = certificate.current_period_end + datetime.timedelta(days=1)

    run = run_committed(django_capture_on_commit_callbacks, renewals.expire_unpaid, today=day, now=at(day))

    certificate.refresh_from_db()
    assert certificate.status == Service.Status.EXPIRED and run.counts == {"expired": 1}
    assert mail.outbox == []  # the expiry notices warned before (art. 5.2.2)


@pytest.mark.django_db
def test_a_dry_run_counts_what_would_expire_and_changes_and_sends_nothing(
    hosting, domain, django_capture_on_commit_callbacks
):
    day = END + datetime.timedelta(days=1)
    run = run_committed(
        django_capture_on_commit_callbacks, renewals.expire_unpaid, today=day, now=at(day), dry_run=True
    )

    assert run.counts == {"suspended": 1, "expired": 1}
    assert set(Service.objects.values_list("status", flat=True)) == {Service.Status.ACTIVE}
    assert not ServiceNotice.objects.exists() and mail.outbox == []
    assert JobRun.objects.get().dry_run is True


@pytest.mark.django_db
def test_one_service_failing_does_not_stop_the_others_and_is_reported(hosting, domain, monkeypatch):
    set_status, stop_many = lifecycle.set_status, lifecycle.stop_many

    def flaky(*, service, **kwargs):
        if service.pk == hosting.pk:
            raise RuntimeError("platform unreachable")
        return set_status(service=service, **kwargs)

    def flaky_batch(*, changes, **kwargs):  # the batch fails, then is done again service by service
        if any(service.pk == hosting.pk for service, _status in changes):
            raise RuntimeError("platform unreachable")
        return stop_many(changes=changes, **kwargs)

    monkeypatch.setattr(lifecycle, "set_status", flaky)
    monkeypatch.setattr(lifecycle, "stop_many", flaky_batch)
    day = END + datetime.timedelta(days=1)
    renewals.expire_unpaid(today=day, now=at(day))

    record = JobRun.objects.get(job="expire_unpaid")
    assert record.counts == {"expired": 1, "failed": 1}
    assert record.errors == ["www.acme.example (Shared web hosting): RuntimeError: platform unreachable"]
    hosting.refresh_from_db()
    domain.refresh_from_db()
    assert (hosting.status, domain.status) == (Service.Status.ACTIVE, Service.Status.EXPIRED)


# A renewal paid after expiry: staff decide


@pytest.fixture
def paid_late(hosting, renewal_invoice, staff_user, django_capture_on_commit_callbacks):
    day = END + datetime.timedelta(days=3)
    renewals.expire_unpaid(today=END + datetime.timedelta(days=1), now=at(END))
    with django_capture_on_commit_callbacks(execute=True), time_machine.travel(at(day), tick=False):
        pay(renewal_invoice, on=day)
    hosting.refresh_from_db()
    return hosting


@pytest.mark.django_db
def test_a_renewal_paid_after_expiry_does_not_revive_the_service_and_staff_are_told_once(paid_late):
    run = renewals.extend_prepaid_periods(now=at(END + datetime.timedelta(days=4)))

    assert (paid_late.status, paid_late.current_period_end) == (Service.Status.SUSPENDED, END)
    assert run.counts == {renewals.PAID_AFTER_EXPIRY: 1}  # reported to ops each run until staff decide
    (message,) = [m for m in mail.outbox if m.to == ["staff@portal.example"]]
    assert message.subject == "Renewal paid after expiry: www.acme.example (Acme SRL) — reactivate or refund"
    assert "/admin/services/service/" in message.body
    assert renewals.late_payment(paid_late).period_end == datetime.date(2027, 12, 20)


@pytest.fixture
def staff_client(staff_user):
    Authenticator.objects.create(user=staff_user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    return client_for(staff_user)


def admin_action(client, action: str, service: Service):
    url = reverse("admin:services_service_changelist")
    return client.post(url, {"action": action, "_selected_action": [service.pk]}, follow=True)


@pytest.mark.django_db
def test_staff_reactivate_after_a_late_payment_from_the_old_end_in_the_admin(
    paid_late, staff_client, django_capture_on_commit_callbacks
):
    page = staff_client.get(reverse("admin:services_service_change", args=[paid_late.pk])).content.decode()
    assert "was paid after the service stopped" in page
    listed = staff_client.get(reverse("admin:services_service_changelist") + "?late_payment=yes").content.decode()
    assert "www.acme.example" in listed

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_action(staff_client, "reactivate_after_late_payment", paid_late)

    assert "1 service reactivated." in response.content.decode()
    paid_late.refresh_from_db()
    assert (paid_late.status, paid_late.current_period_end) == (Service.Status.ACTIVE, datetime.date(2027, 12, 20))
    assert renewals.late_payment(paid_late) is None
    assert mail.outbox[-1].subject == "www.acme.example is active again"
    assert "from Dec. 20, 2026 to Dec. 20, 2027" in mail.outbox[-1].body


@pytest.mark.django_db
def test_staff_refund_a_late_payment_and_the_service_stays_stopped(
    paid_late, staff_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_action(staff_client, "refund_late_payment", paid_late)

    assert "1 late payment to refund" in response.content.decode()
    paid_late.refresh_from_db()
    assert (paid_late.status, paid_late.current_period_end) == (Service.Status.SUSPENDED, END)
    assert renewals.extend_prepaid_periods(now=NOW).counts == {}
    assert mail.outbox[-1].subject.startswith("Your payment of invoice ") and "refund" in mail.outbox[-1].body
    with pytest.raises(ValidationError):
        renewals.reactivate_after_late_payment(service=paid_late, by=None)


@pytest.mark.django_db
def test_a_late_payment_for_a_period_already_over_cannot_be_reactivated(paid_late, staff_user):
    with pytest.raises(ValidationError, match="refund the payment instead"):
        renewals.reactivate_after_late_payment(service=paid_late, by=staff_user, today=datetime.date(2028, 1, 1))


@pytest.mark.django_db
def test_the_service_page_says_our_staff_will_reactivate_or_refund(paid_late, owner_client):
    page = owner_client.get(reverse("service_detail", args=[paid_late.pk])).content.decode()
    assert "Renewal paid after the service stopped" in page
    assert "either reactivate it" in page and "or refund the payment" in page


@pytest.mark.django_db
def test_the_service_page_shows_the_renewal_invoice_awaiting_payment(hosting, renewal_invoice, owner_client):
    page = owner_client.get(reverse("service_detail", args=[hosting.pk])).content.decode()
    assert "Renewal invoice awaiting payment" in page
    assert reverse("invoice_detail", args=[renewal_invoice.number]) in page


# Commands, tasks and the schedule


@pytest.mark.django_db
@pytest.mark.parametrize(
    "command",
    [
        "issue_renewal_invoices",
        "extend_prepaid_periods",
        "expire_unpaid",
        "send_certificate_expiry_notices",
        "bill_m365_licences",
    ],
)
def test_each_job_has_a_command_with_date_and_dry_run_printing_its_summary(command, hosting):
    out = StringIO()
    call_command(command, "--date", "2026-11-27", "--dry-run", stdout=out)

    assert out.getvalue().startswith(f"Dry run: {command}: ")
    assert JobRun.objects.get(job=command).dry_run is True
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_the_invoice_command_issues_the_renewals_of_the_date(hosting):
    out = StringIO()
    call_command("issue_renewal_invoices", "--date", "2026-11-27", stdout=out)

    assert out.getvalue() == "issue_renewal_invoices: 1 invoices issued, 1 renewals invoiced.\n"
    assert len(renewal_lines(hosting)) == 1


@pytest.mark.django_db
def test_renewals_status_prints_what_each_job_would_do_and_changes_nothing(hosting, domain):
    Service.objects.filter(pk=domain.pk).update(current_period_end=datetime.date(2026, 11, 20))
    out = StringIO()

    call_command("renewals_status", "--date", "2026-11-27", stdout=out)

    assert out.getvalue().splitlines() == [
        "What the jobs would do on 2026-11-27:",
        "  Dry run: extend_prepaid_periods: nothing to do.",
        "  Dry run: expire_unpaid: 1 expired.",
        "  Dry run: issue_renewal_invoices: 1 invoices issued, 1 renewals invoiced.",
        "  Dry run: send_certificate_expiry_notices: nothing to do.",
        "  Dry run: bill_m365_licences: nothing to do.",
    ]
    assert not Invoice.objects.exists()
    assert Service.objects.get(pk=domain.pk).status == Service.Status.ACTIVE


def test_a_date_that_is_not_a_date_is_refused_with_a_clear_message():
    with pytest.raises(CommandError, match="--date must be a date such as 2026-11-27"):
        call_command("expire_unpaid", "--date", "27/11/2026")


@pytest.mark.parametrize(
    "task",
    [
        tasks.issue_renewal_invoices,
        tasks.extend_prepaid_periods,
        tasks.expire_unpaid,
        tasks.send_certificate_expiry_notices,
        tasks.bill_m365_licences,
    ],
)
def test_tasks_acknowledge_late_go_back_to_the_queue_when_their_worker_dies_and_retry_with_backoff(task):
    assert task.acks_late is True and task.reject_on_worker_lost is True
    assert task.retry_backoff and task.max_retries
    from django.db import OperationalError

    assert OperationalError in task.autoretry_for and OSError in task.autoretry_for


@pytest.mark.django_db
def test_a_task_runs_its_job_for_the_date_it_is_given(hosting):
    result = tasks.issue_renewal_invoices.delay("2026-11-27")

    assert result.get() == "issue_renewal_invoices: 1 invoices issued, 1 renewals invoiced."
    assert tasks.issue_renewal_invoices.delay("2026-11-27").get() == "issue_renewal_invoices: nothing to do."


def test_beat_runs_every_job_each_night_in_brussels_time(settings):
    from portal.celery import app

    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for job in ["extend_prepaid_periods", "expire_unpaid", "issue_renewal_invoices",
                "send_certificate_expiry_notices", "bill_m365_licences"]:  # fmt: skip
        crontab = schedule[f"services.tasks.{job}"]
        assert crontab.hour <= {1, 2, 3, 4} and crontab.hour, job
        assert len(crontab.minute) == 1, job
    assert settings.CELERY_TIMEZONE == app.conf.timezone == "Europe/Brussels"
    assert (settings.RENEWAL_INVOICE_DAYS, settings.RENEWAL_REMINDER_DAYS) == (30, [14, 7, 1])
    assert settings.CERTIFICATE_NOTICE_DAYS == [30, 14, 7, 1]
    assert settings.RENEWALS_ITEM_DELAY_SECONDS == 0


@pytest.mark.django_db
def test_the_audit_log_records_the_renewal(hosting, renewal_invoice):
    from accounts.models import AuditEvent

    pay(renewal_invoice, on=TODAY)

    event = AuditEvent.objects.get(action="service.renewed")
    assert event.details == {"invoice": renewal_invoice.number, "start": "2026-12-20", "end": "2027-12-20"}
