"""Invoices: gap-free numbers per year, Belgian VAT or reverse charge, structured communication, EPC QR, PDF."""

import datetime
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError
from django.urls import reverse
from stdnum.be import ogm_vcs

from billing import epc, invoices, payments, pdf
from billing.invoices import Line
from billing.models import Invoice, InvoiceCounter
from tests.conftest import client_for
from tests.factories import CreditPackFactory, CustomerFactory, MembershipFactory, issue_invoice

BXL = ZoneInfo("Europe/Brussels")


@pytest.fixture
def pack(db):
    return CreditPackFactory(name="Pack 10", credits=10, price=Decimal("100.00"))


@pytest.mark.django_db
def test_invoice_numbers_follow_each_other_without_gaps_and_restart_each_year(customer, pack):
    numbers = []
    for moment in [
        datetime.datetime(2026, 3, 2, 10, 0, tzinfo=BXL),
        datetime.datetime(2026, 12, 31, 23, 30, tzinfo=BXL),
        datetime.datetime(2027, 1, 1, 0, 30, tzinfo=BXL),
        datetime.datetime(2027, 1, 5, 9, 0, tzinfo=BXL),
    ]:
        with time_machine.travel(moment, tick=False):
            numbers.append(invoices.buy_credit_pack(customer=customer, pack=pack, by=None).number)
    assert numbers == ["2026-00001", "2026-00002", "2027-00001", "2027-00002"]
    assert dict(InvoiceCounter.objects.values_list("year", "last")) == {2026: 2, 2027: 2}


@pytest.mark.django_db
def test_an_invoice_that_fails_to_be_issued_leaves_no_gap(customer, pack):
    today = datetime.date(2026, 5, 4)
    assert issue_invoice(customer, pack=pack, today=today).number == "2026-00001"
    with pytest.raises(IntegrityError):
        # A negative quantity breaks a database constraint after the number was drawn.
        invoices.issue(customer=customer, lines=[Line("broken", Decimal("1.00"), quantity=-1)], today=today)
    assert issue_invoice(customer, pack=pack, today=today).number == "2026-00002"
    assert Invoice.objects.count() == 2


@pytest.mark.django_db
@time_machine.travel(datetime.datetime(2026, 11, 27, 10, 0, tzinfo=BXL), tick=False)
def test_a_belgian_customer_pays_21_percent_vat_and_has_30_days_to_pay(customer, pack, owner):
    invoice = invoices.buy_credit_pack(customer=customer, pack=pack, by=owner)
    assert (invoice.subtotal, invoice.vat_rate, invoice.vat_amount, invoice.total) == (
        Decimal("100.00"), Decimal("21.00"), Decimal("21.00"), Decimal("121.00"),
    )  # fmt: skip
    assert not invoice.reverse_charge and invoice.vat_note == ""
    assert (invoice.issued_on, invoice.due_on) == (datetime.date(2026, 11, 27), datetime.date(2026, 12, 27))
    assert (invoice.status, invoice.customer_name, invoice.issued_by) == ("issued", "Acme SRL", owner)
    (line,) = invoice.lines.all()
    assert (line.credit_pack, line.credits, line.amount) == (pack, 10, Decimal("100.00"))
    assert "Pack 10 (10 credits)" in line.description


@pytest.mark.django_db
def test_vat_is_rounded_to_the_cent(customer):
    invoice = issue_invoice(customer, pack=CreditPackFactory(price=Decimal("9.99")))
    assert (invoice.vat_amount, invoice.total) == (Decimal("2.10"), Decimal("12.09"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("country", "vat_number"), [("NL", "NL004495445B01"), ("DE", "DE136695976"), ("GR", "EL094259216")]
)
def test_an_eu_business_outside_belgium_with_a_valid_vat_number_is_reverse_charged(pack, country, vat_number):
    customer = CustomerFactory(country=country, vat_number=vat_number)
    invoice = issue_invoice(customer, pack=pack)
    assert (invoice.vat_amount, invoice.total) == (Decimal("0.00"), Decimal("100.00"))
    assert invoice.vat_rate == Decimal("0.00")
    assert invoice.reverse_charge
    assert invoice.customer_vat_number == vat_number
    assert "reverse charge" in invoice.vat_note.lower() and "196" in invoice.vat_note


@pytest.mark.django_db
def test_the_reverse_charge_is_noted_on_the_invoice_page(pack):
    customer = CustomerFactory(name="Bakkerij BV", country="NL", vat_number="NL004495445B01")
    user = MembershipFactory(customer=customer).user
    invoice = issue_invoice(customer, pack=pack)
    body = client_for(user).get(invoice.get_absolute_url()).content.decode()
    assert invoices.REVERSE_CHARGE_NOTE in body
    assert "NL004495445B01" in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("country", "vat_number"),
    [
        ("BE", "BE0403170701"),  # Belgian business: Belgian VAT, never reverse charge
        ("FR", ""),  # EU, but no VAT number: a consumer
        ("NL", "NL000000000B00"),  # EU, but the number is not valid
        ("US", ""),  # outside the EU
        ("CH", "CHE116281710"),  # outside the EU, with its own VAT number
    ],
)
def test_other_customers_pay_belgian_vat(pack, country, vat_number):
    invoice = issue_invoice(CustomerFactory(country=country, vat_number=vat_number), pack=pack)
    assert (invoice.vat_rate, invoice.total, invoice.reverse_charge) == (Decimal("21.00"), Decimal("121.00"), False)


@pytest.mark.django_db
def test_the_structured_communication_is_valid_modulo_97_and_unique(customer, pack):
    issued = [issue_invoice(customer, pack=pack) for _ in range(30)]
    communications = [invoice.structured_communication for invoice in issued]
    assert all(len(c) == 12 and c.isdigit() and ogm_vcs.is_valid(c) for c in communications)
    assert len(set(communications)) == len(communications)
    shown = issued[0].communication_display
    assert re.fullmatch(r"\+\+\+\d{3}/\d{4}/\d{5}\+\+\+", shown)
    assert ogm_vcs.compact(shown) == issued[0].structured_communication


@pytest.mark.django_db
def test_a_communication_drawn_twice_is_drawn_again(customer, pack, monkeypatch):
    taken = issue_invoice(customer, pack=pack).structured_communication
    draws = iter([taken, "090933755493"])
    monkeypatch.setattr(invoices, "new_structured_communication", lambda: next(draws))
    invoice = issue_invoice(customer, pack=pack)
    assert invoice.structured_communication == "090933755493"
    assert invoice.number.endswith("-00002")


@pytest.mark.django_db
def test_a_pack_no_longer_for_sale_cannot_be_bought(customer, owner):
    retired = CreditPackFactory(is_active=False)
    with pytest.raises(ValueError, match="no longer for sale"):
        invoices.buy_credit_pack(customer=customer, pack=retired, by=owner)
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_the_epc_qr_payload_has_the_exact_lines_of_a_sepa_transfer(customer, pack, settings):
    settings.BILLING_BENEFICIARY = "Hosting Provider SA"
    settings.BILLING_IBAN = "BE68 5390 0754 7034"
    settings.BILLING_BIC = "GKCCBEBB"
    invoice = issue_invoice(customer, pack=pack, communication="090933755493")
    assert epc.for_invoice(invoice).split("\n") == [
        "BCD", "002", "1", "SCT", "GKCCBEBB", "Hosting Provider SA", "BE68539007547034", "EUR121.00", "", "",
        "+++090/9337/55493+++",
    ]  # fmt: skip


def test_the_epc_qr_refuses_amounts_a_bank_transfer_cannot_carry():
    for amount in (Decimal("0.00"), Decimal("1000000000.00")):
        with pytest.raises(ValueError):
            epc.payload(amount=amount, communication="x", beneficiary="b", iban="BE68539007547034", bic="GKCCBEBB")


@pytest.mark.django_db
def test_the_printable_invoice_shows_the_payment_text_and_the_epc_qr_code(owner_client, customer, pack):
    invoice = issue_invoice(customer, pack=pack, communication="090933755493")
    response = owner_client.get(reverse("invoice_detail", args=[invoice.number]))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in body
    assert "Transfer 121.00 EUR to Hosting Provider SA, IBAN BE68539007547034 (BIC GKCCBEBB)" in body
    assert "+++090/9337/55493+++" in body
    assert 'media="print"' in body and "billing/print" in body
    assert reverse("invoice_pdf", args=[invoice.number]) in body


@pytest.mark.django_db
def test_a_paid_invoice_shows_no_payment_instructions(owner_client, customer, pack):
    invoice = issue_invoice(customer, pack=pack)
    payments.mark_paid(invoice=invoice)
    body = owner_client.get(invoice.get_absolute_url()).content.decode()
    assert "data:image/svg+xml" not in body and "How to pay" not in body
    assert "Paid on" in body


@pytest.mark.django_db
def test_the_invoice_downloads_as_a_pdf(owner_client, customer, pack):
    invoice = issue_invoice(customer, pack=pack)
    response = owner_client.get(reverse("invoice_pdf", args=[invoice.number]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="invoice-{invoice.number}.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "nl", "en"])
def test_the_pdf_renders_in_the_customers_language_with_a_reverse_charge_note(pack, language):
    customer = CustomerFactory(country="NL", vat_number="NL004495445B01", preferred_language=language)
    invoice = issue_invoice(customer, pack=pack)
    assert pdf.render(invoice).startswith(b"%PDF")


@pytest.mark.django_db
def test_an_invoice_of_any_amount_is_issued_on_sqlite_too(customer):
    """SQLite compares decimals as floats: 99.80 + 20.96 is not 120.76 there; the total is computed in Python."""
    from billing.invoices import Line, issue

    invoice = issue(customer=customer, lines=[Line("Hosting", Decimal("99.80"))])
    amounts = (invoice.subtotal, invoice.vat_amount, invoice.total)
    assert amounts == (Decimal("99.80"), Decimal("20.96"), Decimal("120.76"))
