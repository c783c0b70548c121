"""Microsoft 365 monthly billing: the licences and the price in force on the month's first day, once per
month (art. 6.1.5, 6.1.6), and a pack left without licences ends (art. 6.3.3)."""

import datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command

from billing.models import Invoice, InvoiceLine
from services import m365, renewals
from services.models import Kind, PriceChange, Service
from tests.factories import PlanFactory, ServiceFactory

BRUSSELS = ZoneInfo("Europe/Brussels")


def at(day: datetime.date, hour: int = 2) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, 0), tzinfo=BRUSSELS)


def bill(day: datetime.date, **kwargs):
    return renewals.bill_m365_licences(today=day, now=at(day), **kwargs)


@pytest.fixture
def plan(db):
    return PlanFactory(
        kind=Kind.M365_PACK, name="Business Standard", price=Decimal("12.50"), period_months=0,
        specifications={"max_users": 300},
    )  # fmt: skip


@pytest.fixture
def pack(customer, owner, plan):
    return ServiceFactory(
        customer=customer, plan=plan, name="Acme Office", quantity=3, current_period_end=None,
        started_on=datetime.date(2026, 10, 14),
    )  # fmt: skip


def lines_of(service: Service) -> list[tuple]:
    return list(
        InvoiceLine.objects.filter(service=service)
        .order_by("period_start")
        .values_list("period_start", "period_end", "quantity", "unit_price", "amount")
    )


@pytest.mark.django_db
def test_art_6_1_5_a_pack_is_billed_each_month_for_the_licences_in_force_on_its_first_day(pack):
    run = bill(datetime.date(2026, 11, 1))

    assert lines_of(pack) == [
        (datetime.date(2026, 11, 1), datetime.date(2026, 12, 1), 3, Decimal("12.50"), Decimal("37.50"))
    ]
    line = InvoiceLine.objects.get()
    assert line.description == "Business Standard — Acme Office: licences for 2026-11"
    assert line.invoice.issued_on == datetime.date(2026, 11, 1)
    assert run.counts == {"invoices issued": 1, "packs billed": 1}


@pytest.mark.django_db
def test_a_month_is_billed_once_however_often_the_job_runs(pack):
    for day in range(1, 31):
        bill(datetime.date(2026, 11, day))
        bill(datetime.date(2026, 11, day))

    assert len(lines_of(pack)) == 1 and Invoice.objects.count() == 1


@pytest.mark.django_db
def test_a_missed_first_night_is_caught_up_the_next_day_with_the_licences_of_the_first_day(pack):
    m365.change_licences(service=pack, delta=2, by=None, now=at(datetime.date(2026, 11, 1), hour=14))

    bill(datetime.date(2026, 11, 2))

    assert [row[2] for row in lines_of(pack)] == [3]


@pytest.mark.django_db
def test_licences_added_or_cancelled_during_a_month_count_from_the_next_month(pack):
    m365.change_licences(service=pack, delta=4, by=None, now=at(datetime.date(2026, 11, 10)))
    m365.change_licences(service=pack, delta=-1, by=None, now=at(datetime.date(2026, 11, 20)))

    bill(datetime.date(2026, 11, 1))
    bill(datetime.date(2026, 12, 1))

    assert [row[2] for row in lines_of(pack)] == [3, 6]


@pytest.mark.django_db
def test_art_6_1_6_a_price_change_applies_from_its_effective_date(pack, plan):
    PriceChange.objects.create(plan=plan, price=Decimal("14.00"), effective_on=datetime.date(2027, 1, 1))

    for month in (12, 1):
        bill(datetime.date(2026 if month == 12 else 2027, month, 1))

    assert [(row[0], row[3], row[4]) for row in lines_of(pack)] == [
        (datetime.date(2026, 12, 1), Decimal("12.50"), Decimal("37.50")),
        (datetime.date(2027, 1, 1), Decimal("14.00"), Decimal("42.00")),
    ]


@pytest.mark.django_db
def test_the_month_a_pack_starts_in_is_paid_by_its_order_invoice(customer, plan):
    started = ServiceFactory(
        customer=customer, plan=plan, quantity=2, current_period_end=None, started_on=datetime.date(2026, 11, 1)
    )

    bill(datetime.date(2026, 11, 1))
    bill(datetime.date(2026, 12, 1))

    assert [row[0] for row in lines_of(started)] == [datetime.date(2026, 12, 1)]


@pytest.mark.django_db
def test_packs_of_one_customer_share_the_months_invoice(pack, customer, plan):
    second = ServiceFactory(customer=customer, plan=plan, name="Sales", quantity=10, current_period_end=None)

    bill(datetime.date(2026, 11, 1))

    (invoice,) = Invoice.objects.all()
    assert {line.service for line in invoice.lines.all()} == {pack, second}
    assert invoice.subtotal == Decimal("162.50")


@pytest.mark.django_db
def test_art_6_3_3_a_pack_left_without_licences_ends_and_is_not_billed(pack, django_capture_on_commit_callbacks):
    Service.objects.filter(pk=pack.pk).update(quantity=0)  # e.g. set by hand in the admin

    with django_capture_on_commit_callbacks(execute=True):
        run = bill(datetime.date(2026, 11, 1))

    pack.refresh_from_db()
    assert pack.status == Service.Status.ENDED
    assert lines_of(pack) == [] and run.counts == {"ended (no licence left)": 1}
    assert "art. 6.3.3" in pack.events.filter(field="note").get().new_value
    assert [m.subject for m in mail.outbox] == ["Microsoft 365: the contract of Acme Office has ended"]


@pytest.mark.django_db
def test_a_dry_run_counts_the_pack_to_end_but_neither_ends_it_nor_tells_microsoft(pack, monkeypatch):
    told = []
    monkeypatch.setattr(m365, "get_microsoft", lambda: told.append("called"))
    Service.objects.filter(pk=pack.pk).update(quantity=0)

    run = bill(datetime.date(2026, 11, 1), dry_run=True)

    pack.refresh_from_db()
    assert run.counts == {"ended (no licence left)": 1}
    assert pack.status == Service.Status.ACTIVE and told == []


@pytest.mark.django_db
def test_an_ended_pack_is_not_billed(pack):
    m365.end_contract(service=pack, by=None, now=at(datetime.date(2026, 10, 20)))

    bill(datetime.date(2026, 11, 1))

    assert lines_of(pack) == []


@pytest.mark.django_db
def test_a_pack_billed_meanwhile_by_another_worker_is_counted_as_already_billed(pack, monkeypatch):
    from services import notices

    def other_worker_first():
        if not InvoiceLine.objects.exists():
            line = renewals.Line(
                description="other worker", unit_price=Decimal("12.50"), quantity=3, service=pack,
                period_start=datetime.date(2026, 11, 1), period_end=datetime.date(2026, 12, 1),
            )  # fmt: skip
            renewals.issue_lines(customer=pack.customer, lines=[line], today=datetime.date(2026, 11, 1))

    monkeypatch.setattr(notices, "pace", other_worker_first)
    run = bill(datetime.date(2026, 11, 1))

    assert len(lines_of(pack)) == 1 and run.counts == {"already billed": 1}


@pytest.mark.django_db
def test_the_command_bills_the_month_of_the_date(pack):
    out = StringIO()
    call_command("bill_m365_licences", "--date", "2026-11-01", stdout=out)

    assert out.getvalue() == "bill_m365_licences: 1 invoices issued, 1 packs billed.\n"
