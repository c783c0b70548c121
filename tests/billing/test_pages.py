"""The customer's billing pages: balance, ledger, CSV, buying credits, invoices; roles and scoping."""

import csv
import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing import ledger
from billing.models import Invoice, LedgerEntry
from support import tickets
from support.models import InterventionType
from tests.conftest import client_for
from tests.factories import CreditPackFactory, issue_invoice

BXL = ZoneInfo("Europe/Brussels")


@pytest.fixture
def pack(db):
    return CreditPackFactory(name="Pack 10", credits=10, price=Decimal("100.00"))


@pytest.fixture
def ticket(customer, owner):
    return tickets.open_ticket(
        customer=customer, opened_by=owner, reason=InterventionType.objects.get(code="hosting-internal-migration"),
        priority="standard", subject="Move the site", description="Please.",
    )  # fmt: skip


def at(year: int, month: int, day: int):
    return time_machine.travel(datetime.datetime(year, month, day, 10, 0, tzinfo=BXL), tick=False)


@pytest.mark.django_db
def test_the_owner_sees_the_balance_and_the_movements_with_links(owner_client, customer, pack, ticket):
    invoice = issue_invoice(customer, pack=pack)
    ledger.grant(customer, 10, reason=f"Invoice {invoice.number} paid", invoice=invoice)
    ledger.spend(customer, 4, reason=f"{ticket.number}: 30 min", ticket=ticket)
    body = owner_client.get(reverse("billing")).content.decode()
    assert '<p class="balance"><strong>6</strong> credits</p>' in body
    assert f'href="{invoice.get_absolute_url()}"' in body
    assert f'href="{ticket.get_absolute_url()}"' in body  # the ledger links back to the ticket (art. 7.4)
    assert reverse("buy_credits") in body
    assert invoice.number in body  # listed under "Invoices to pay"


@pytest.mark.django_db
def test_the_ledger_is_paginated(owner_client, customer):
    for n in range(30):
        ledger.grant(customer, 1, reason=f"Grant number {n}")
    first = owner_client.get(reverse("billing")).content.decode()
    assert first.count("Grant number") == 25 and "Grant number 29" in first and "Page 1 of 2" in first
    second = owner_client.get(reverse("billing"), {"page": 2}).content.decode()
    assert second.count("Grant number") == 5 and "Grant number 0<" in second


@pytest.mark.django_db
def test_the_ledger_is_filtered_by_month_also_through_htmx(owner_client, customer):
    with at(2026, 10, 15):
        ledger.grant(customer, 10, reason="October pack")
    with at(2026, 11, 3):
        ledger.spend(customer, 2, reason="November work")
    body = owner_client.get(reverse("billing"), {"month": "2026-10"}).content.decode()
    assert "October pack" in body and "November work" not in body
    assert 'value="2026-10"' in body
    fragment = owner_client.get(reverse("billing"), {"month": "2026-11"}, headers={"HX-Request": "true"})
    html = fragment.content.decode()
    assert html.lstrip().startswith('<div id="ledger"') and "<html" not in html
    assert "November work" in html and "October pack" not in html
    everything = owner_client.get(reverse("billing"), {"month": "not-a-month"}).content.decode()
    assert "October pack" in everything and "November work" in everything


@pytest.mark.django_db
def test_the_ledger_exports_as_csv_oldest_first_and_by_month(owner_client, customer, pack, ticket):
    invoice = issue_invoice(customer, pack=pack)
    with at(2026, 10, 15):
        ledger.grant(customer, 10, reason="Invoice paid", invoice=invoice)
    with at(2026, 11, 3):
        ledger.spend(customer, 4, reason="Migration, 30 min", ticket=ticket)
    response = owner_client.get(reverse("ledger_csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="credits.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["Date", "Credits", "Balance after", "Reason", "Ticket", "Invoice"],
        ["2026-10-15T10:00:00+02:00", "10", "10", "Invoice paid", "", invoice.number],
        ["2026-11-03T10:00:00+01:00", "-4", "6", "Migration, 30 min", ticket.number, ""],
    ]
    november = owner_client.get(reverse("ledger_csv"), {"month": "2026-11"})
    assert november["Content-Disposition"] == 'attachment; filename="credits-2026-11.csv"'
    assert len(list(csv.reader(io.StringIO(november.content.decode())))) == 2


@pytest.mark.django_db
def test_the_ledger_page_does_not_query_more_with_more_entries(owner_client, customer, pack, ticket):
    invoice = issue_invoice(customer, pack=pack)
    account = ledger.account_of(customer)

    def add_entries(count: int) -> None:
        start = LedgerEntry.objects.count()
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                account=account, kind="grant", credits=1, balance_after=start + n + 1, reason=f"Bulk {start + n}",
                ticket=ticket if n % 2 else None, invoice=None if n % 2 else invoice,
            )
            for n in range(count)
        )  # fmt: skip

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(reverse("billing")).status_code == 200
        return len(captured)

    add_entries(20)
    queries()  # the first visit also records the user session (allauth usersessions)
    with_20 = queries()
    add_entries(480)
    assert queries() == with_20


@pytest.mark.django_db
def test_an_owner_buys_a_pack_and_is_sent_to_its_invoice(owner_client, owner, customer, pack, reauthenticated):
    response = owner_client.post(reverse("buy_credits_post"), {"pack": pack.pk})
    invoice = Invoice.objects.get()
    assert response.status_code == 302 and response.url == invoice.get_absolute_url()
    assert (invoice.customer, invoice.issued_by, invoice.total) == (customer, owner, Decimal("121.00"))
    page = owner_client.get(response.url).content.decode()
    assert f"Invoice {invoice.number} is issued. The 10 credits are added as soon as it is paid." in page
    assert ledger.balance(customer) == 0  # granted when paid, not before


@pytest.mark.django_db
def test_buying_asks_for_the_password_again(owner_client, pack):
    response = owner_client.post(reverse("buy_credits_post"), {"pack": pack.pk})
    assert response.status_code == 302 and response.url.startswith(reverse("account_reauthenticate"))
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_a_billing_contact_may_buy_credits(billing_member, pack, reauthenticated):
    response = client_for(billing_member).post(reverse("buy_credits_post"), {"pack": pack.pk})
    assert response.status_code == 302 and Invoice.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("pack_value", ["retired", "999999", "abc", "", "¹"])  # "¹".isdigit(), yet not a number
def test_a_pack_not_for_sale_or_unknown_is_not_found(owner_client, reauthenticated, pack_value):
    retired = CreditPackFactory(is_active=False)
    value = str(retired.pk) if pack_value == "retired" else pack_value
    assert owner_client.post(reverse("buy_credits_post"), {"pack": value}).status_code == 404
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_the_buy_page_lists_the_packs_for_sale(owner_client, pack):
    CreditPackFactory(name="Old pack", is_active=False)
    body = owner_client.get(reverse("buy_credits")).content.decode()
    assert "Pack 10" in body and "Old pack" not in body
    assert "Buy Pack 10" in body and f'value="{pack.pk}"' in body


@pytest.mark.django_db
def test_a_technical_member_sees_the_balance_but_not_the_buy_buttons(technical_client, customer, pack):
    ledger.grant(customer, 7, reason="Pack")
    overview = technical_client.get(reverse("billing")).content.decode()
    assert "<strong>7</strong>" in overview
    assert reverse("buy_credits") not in overview
    buy_page = technical_client.get(reverse("buy_credits")).content.decode()
    assert "Pack 10" in buy_page
    assert reverse("buy_credits_post") not in buy_page and "Buy Pack 10" not in buy_page
    assert "Your role does not allow buying credits" in buy_page


@pytest.mark.django_db
def test_a_technical_member_cannot_buy_even_by_posting(technical_client, pack, reauthenticated):
    assert technical_client.post(reverse("buy_credits_post"), {"pack": pack.pk}).status_code == 403
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_the_invoice_list_shows_status_and_downloads(owner_client, customer, other_customer, pack):
    from billing import payments

    paid = issue_invoice(customer, pack=pack, today=datetime.date(2026, 10, 1))
    payments.mark_paid(invoice=paid)
    with at(2026, 11, 27):
        overdue = issue_invoice(customer, pack=pack, today=datetime.date(2026, 10, 2))
        issue_invoice(other_customer, pack=pack, today=datetime.date(2026, 10, 3))
        body = owner_client.get(reverse("invoice_list")).content.decode()
    assert paid.number in body and overdue.number in body and "2026-00003" not in body
    assert "Paid" in body and "To be paid" in body and "overdue" in body
    assert reverse("invoice_pdf", args=[paid.number]) in body


@pytest.mark.django_db
def test_every_role_can_read_its_invoices(technical_client, customer, pack):
    invoice = issue_invoice(customer, pack=pack)
    assert technical_client.get(invoice.get_absolute_url()).status_code == 200
    assert technical_client.get(reverse("invoice_pdf", args=[invoice.number])).status_code == 200


@pytest.mark.django_db
def test_another_customers_invoice_is_not_found(other_client, customer, pack):
    invoice = issue_invoice(customer, pack=pack)
    assert other_client.get(invoice.get_absolute_url()).status_code == 404
    assert other_client.get(reverse("invoice_pdf", args=[invoice.number])).status_code == 404
    assert invoice.number not in other_client.get(reverse("invoice_list")).content.decode()
    assert invoice.number not in other_client.get(reverse("billing")).content.decode()


@pytest.mark.django_db
def test_the_billing_pages_need_a_signed_in_member(client, pack):
    for name in ("billing", "ledger_csv", "buy_credits", "invoice_list"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and reverse("account_login") in response.url
