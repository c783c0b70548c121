"""Recording payments; a fully paid invoice has its effects applied exactly once."""

import datetime
from collections.abc import Callable
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from billing import ledger
from billing.models import Invoice, Payment
from portal import audit

# Other apps add what paying an invoice does (the renewals issue: mark a period prepaid).
PAID_HOOKS: list[Callable[[Invoice], None]] = []


def paid_amount(invoice: Invoice) -> Decimal:
    # SQLite's SUM drops the scale (100 rather than 100.00): quantize so reports read the same everywhere.
    total = invoice.payments.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    return total.quantize(Decimal("0.01"))


@transaction.atomic
def record_payment(
    *,
    invoice: Invoice,
    amount: Decimal,
    received_on: datetime.date,
    by: User | None = None,
    source: str = Payment.Source.MANUAL,
    bank_reference: str | None = None,
    payer: str = "",
    note: str = "",
) -> Payment | None:
    """Record money received; None when this bank reference was recorded before (nothing twice)."""
    if amount <= 0:
        raise ValueError("A payment is a positive amount.")
    if bank_reference and Payment.objects.filter(bank_reference=bank_reference).exists():
        return None
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                invoice=invoice, amount=amount, received_on=received_on, source=source,
                bank_reference=bank_reference or None, payer=payer[:200], note=note[:255], recorded_by=by,
            )  # fmt: skip
    except IntegrityError:
        return None  # the same bank entry, recorded by a concurrent import
    audit.record(
        "payment.recorded", actor=by, customer=invoice.customer, obj=invoice, amount=str(amount), source=source
    )
    if invoice.status == Invoice.Status.ISSUED and paid_amount(invoice) >= invoice.total:
        mark_paid(invoice=invoice, by=by)
    return payment


@transaction.atomic
def mark_paid(*, invoice: Invoice, by: User | None = None) -> Invoice:
    """Mark paid and apply the effects once: credits granted (keyed by invoice), hooks called once."""
    if invoice.status == Invoice.Status.CANCELLED:
        raise ValueError("A cancelled invoice cannot be paid: refund the money instead.")
    claimed = Invoice.objects.filter(
        pk=invoice.pk, effects_applied_at__isnull=True, status=Invoice.Status.ISSUED
    ).update(status=Invoice.Status.PAID, paid_at=timezone.now(), effects_applied_at=timezone.now())
    invoice.refresh_from_db()
    if not claimed:
        return invoice
    credits = sum(line.credits for line in invoice.lines.all())
    if credits:
        ledger.grant(
            invoice.customer, credits, reason=f"Invoice {invoice.number} paid", by=by, invoice=invoice,
            key=f"invoice:{invoice.pk}",
        )  # fmt: skip
    for hook in PAID_HOOKS:
        hook(invoice)
    audit.record("invoice.paid", actor=by, customer=invoice.customer, obj=invoice)
    return invoice
