"""Payments: a fully paid invoice grants its pack's credits and calls its hooks exactly once."""

import datetime
from decimal import Decimal

import pytest
from allauth.mfa.models import Authenticator
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import AuditEvent
from billing import ledger, payments
from billing.models import Invoice, LedgerEntry, Payment
from tests.conftest import client_for
from tests.factories import CreditPackFactory, issue_invoice

DAY = datetime.date(2026, 11, 27)


@pytest.fixture
def invoice(customer):
    """121.00 EUR incl. VAT for a pack of 10 credits."""
    return issue_invoice(customer, pack=CreditPackFactory(credits=10, price=Decimal("100.00")), today=DAY)


@pytest.fixture
def hook_calls(monkeypatch):
    calls = []
    monkeypatch.setattr(payments, "PAID_HOOKS", [lambda invoice: calls.append(invoice.number)])
    return calls


def pay(invoice, amount: str, **kwargs) -> Payment | None:
    return payments.record_payment(invoice=invoice, amount=Decimal(amount), received_on=DAY, **kwargs)


@pytest.mark.django_db
def test_a_partial_payment_leaves_the_invoice_to_be_paid_and_grants_nothing(invoice, customer, hook_calls):
    pay(invoice, "100.00")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.ISSUED and invoice.paid_at is None
    assert payments.paid_amount(invoice) == Decimal("100.00")
    assert ledger.balance(customer) == 0 and hook_calls == []


@pytest.mark.django_db
def test_the_rest_pays_the_invoice_and_grants_the_packs_credits_once(invoice, customer, hook_calls, staff_user):
    pay(invoice, "100.00")
    pay(invoice, "21.00", by=staff_user)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID and invoice.paid_at is not None
    assert ledger.balance(customer) == 10
    (entry,) = LedgerEntry.objects.all()
    assert (entry.invoice, entry.credits, entry.actor) == (invoice, 10, staff_user)
    assert hook_calls == [invoice.number]
    assert list(AuditEvent.objects.filter(customer=customer).values_list("action", flat=True).order_by("pk")) == [
        "invoice.issued", "payment.recorded", "payment.recorded", "invoice.paid",
    ]  # fmt: skip


@pytest.mark.django_db
def test_a_second_payment_after_the_invoice_is_paid_grants_nothing_more(invoice, customer, hook_calls):
    pay(invoice, "121.00")
    pay(invoice, "121.00")  # paid twice by mistake: the money is recorded, the credits are not granted again
    assert Payment.objects.filter(invoice=invoice).count() == 2
    assert ledger.balance(customer) == 10
    assert hook_calls == [invoice.number]


@pytest.mark.django_db
def test_marking_an_invoice_paid_twice_applies_its_effects_once(invoice, customer, hook_calls):
    payments.mark_paid(invoice=invoice)
    payments.mark_paid(invoice=invoice)
    pay(invoice, "121.00")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID and invoice.effects_applied_at is not None
    assert ledger.balance(customer) == 10 and LedgerEntry.objects.count() == 1
    assert hook_calls == [invoice.number]


@pytest.mark.django_db
def test_an_overpayment_pays_the_invoice(invoice, customer):
    pay(invoice, "150.00")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID and ledger.balance(customer) == 10


@pytest.mark.django_db
def test_the_same_bank_entry_is_recorded_once(invoice):
    assert pay(invoice, "50.00", bank_reference="BE68539007547034:REF-1") is not None
    assert pay(invoice, "50.00", bank_reference="BE68539007547034:REF-1") is None
    assert payments.paid_amount(invoice) == Decimal("50.00")


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["0.00", "-5.00"])
def test_a_payment_is_a_positive_amount(invoice, amount):
    with pytest.raises(ValueError):
        pay(invoice, amount)
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_payments_are_append_only(invoice):
    payment = pay(invoice, "10.00")
    payment.amount = Decimal("121.00")
    with pytest.raises(ValidationError):
        payment.save()
    with pytest.raises(ValidationError):
        payment.delete()
    assert Payment.objects.get().amount == Decimal("10.00")


@pytest.mark.django_db
def test_an_invoice_with_several_packs_grants_all_their_credits(customer):
    from billing import invoices
    from billing.invoices import Line

    small, large = CreditPackFactory(credits=10), CreditPackFactory(credits=50, price=Decimal("450.00"))
    invoice = invoices.issue(
        customer=customer,
        lines=[
            Line("small", small.price, quantity=2, credit_pack=small, credits=small.credits),
            Line("large", large.price, credit_pack=large, credits=large.credits),
        ],
    )
    assert invoice.total == Decimal("786.50")
    pay(invoice, "786.50")
    assert ledger.balance(customer) == 70


@pytest.fixture
def staff_client(staff_user):
    Authenticator.objects.create(user=staff_user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    return client_for(staff_user)


@pytest.mark.django_db
def test_staff_record_a_payment_in_the_admin_and_the_credits_appear(staff_client, staff_user, invoice, customer):
    response = staff_client.post(
        reverse("admin:billing_payment_add"),
        {"invoice": invoice.pk, "amount": "121.00", "received_on": "2026-11-28", "payer": "Acme SRL",
         "note": "Transfer", "_save": "Save"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    payment = Payment.objects.get()
    assert (payment.amount, payment.source, payment.recorded_by) == (Decimal("121.00"), "manual", staff_user)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert ledger.balance(customer) == 10
    assert f"Invoice {invoice.number} is paid." in staff_client.get(response.url).content.decode()


@pytest.mark.django_db
def test_staff_cannot_change_or_delete_a_recorded_payment_in_the_admin(staff_client, invoice):
    payment = pay(invoice, "100.00")
    changed = {"invoice": invoice.pk, "amount": "1.00", "received_on": "2026-11-28"}
    assert staff_client.post(reverse("admin:billing_payment_change", args=[payment.pk]), changed).status_code == 403
    delete_url = reverse("admin:billing_payment_delete", args=[payment.pk])
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert Payment.objects.get().amount == Decimal("100.00")


@pytest.mark.django_db
def test_the_billing_admin_pages_open_for_staff(staff_client, invoice):
    pay(invoice, "50.00", payer="Acme SRL")
    for name in ("invoice", "payment", "ledgerentry", "creditaccount", "creditpack"):
        assert staff_client.get(reverse(f"admin:billing_{name}_changelist")).status_code == 200, name
    assert staff_client.get(reverse("admin:billing_payment_add")).status_code == 200
    page = staff_client.get(reverse("admin:billing_invoice_change", args=[invoice.pk]))
    assert page.status_code == 200 and "Acme SRL" in page.content.decode()
    assert staff_client.get(reverse("admin:billing_invoice_add")).status_code == 403  # issued by the portal only


@pytest.mark.django_db
def test_a_cancelled_invoice_is_never_marked_paid_nor_grants_credits(customer):
    from billing import payments
    from billing.models import Invoice
    from tests.factories import CreditPackFactory, issue_invoice

    invoice = issue_invoice(customer, pack=CreditPackFactory(credits=10), today=datetime.date(2026, 11, 20))
    Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.CANCELLED)
    invoice.refresh_from_db()
    payments.record_payment(invoice=invoice, amount=invoice.total, received_on=datetime.date(2026, 11, 21))
    with pytest.raises(ValueError, match="cancelled"):
        payments.mark_paid(invoice=invoice)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.CANCELLED
    assert ledger.balance(customer) == 0
