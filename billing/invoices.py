"""Issuing invoices: gap-free numbers per year, Belgian VAT or reverse charge, structured communication."""

import datetime
import secrets
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.be import ogm_vcs
from stdnum.eu import vat as eu_vat

from accounts.models import AuditEvent, Customer, User
from accounts.vat import is_eu_country
from billing.models import CreditPack, Invoice, InvoiceCounter, InvoiceLine
from portal import audit, counters
from services.models import Service

CENT = Decimal("0.01")
REVERSE_CHARGE_NOTE = "Autoliquidation — reverse charge, art. 196 Directive 2006/112/EC"


@dataclass(frozen=True)
class Line:
    description: str
    unit_price: Decimal
    quantity: int = 1
    credit_pack: CreditPack | None = None
    credits: int = 0
    service: Service | None = None
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def vat_treatment(customer: Customer) -> tuple[Decimal, bool, str]:
    """(rate, reverse charge, note): Belgian VAT, or reverse charge for an EU business outside
    Belgium with a valid VAT number."""
    country = str(customer.country)
    if country != "BE" and is_eu_country(country) and customer.vat_number and eu_vat.is_valid(customer.vat_number):
        return Decimal("0.00"), True, REVERSE_CHARGE_NOTE
    return Decimal(settings.BILLING_VAT_RATE), False, ""


def new_structured_communication() -> str:
    """Twelve digits: ten random, then the modulo-97 check (97 when the remainder is 0)."""
    base = f"{secrets.randbelow(10**10):010d}"
    return base + ogm_vcs.calc_check_digits(base)


def _address(customer: Customer) -> str:
    country = customer.country.name if customer.country else ""
    return "\n".join(p for p in [customer.street, f"{customer.postal_code} {customer.city}".strip(), str(country)] if p)


def issue(
    *, customer: Customer, lines: list[Line], by: User | None = None, today: datetime.date | None = None
) -> Invoice:
    ((invoice, _lines),) = issue_many(orders=[(customer, lines)], by=by, today=today)
    return invoice


def _communications(count: int) -> list[str]:
    """``count`` new structured communications, none of them on an invoice yet (one query, as a rule)."""
    found: set[str] = set()
    while len(found) < count:
        drawn = {new_structured_communication() for _ in range(count - len(found))} - found
        taken = Invoice.objects.filter(structured_communication__in=drawn).values_list(
            "structured_communication", flat=True
        )
        found |= drawn - set(taken)  # one in ten billion is taken already: drawn again
    return list(found)


@transaction.atomic
def issue_many(
    *, orders: list[tuple[Customer, list[Line]]], by: User | None = None, today: datetime.date | None = None
) -> list[tuple[Invoice, list[InvoiceLine]]]:
    """Issue one invoice per (customer, lines) of ``orders``, with its lines and audit event, in a fixed
    number of queries however many invoices (the jobs issue a batch at once). The numbers are a block of
    the year's counter, locked until the transaction ends and given back whole if it rolls back (no gap)."""
    if any(not lines for _customer, lines in orders):
        raise ValueError("An invoice needs at least one line.")
    if not orders:
        return []
    today = today or timezone.localdate()
    numbers = counters.reserve_in_year(InvoiceCounter, today.year, len(orders))
    issued = []
    for (customer, lines), n, communication in zip(orders, numbers, _communications(len(orders)), strict=True):
        rate, reverse_charge, note = vat_treatment(customer)
        subtotal = money(sum((line.unit_price * line.quantity for line in lines), Decimal("0")))
        vat_amount = money(subtotal * rate / 100)
        invoice = Invoice(
            number=f"{today.year}-{n:05d}", customer=customer, issued_on=today,
            due_on=today + datetime.timedelta(days=settings.BILLING_PAYMENT_TERM_DAYS),
            structured_communication=communication, customer_name=customer.name, customer_address=_address(customer),
            customer_vat_number=customer.vat_number, subtotal=subtotal, vat_rate=rate, vat_amount=vat_amount,
            total=subtotal + vat_amount, reverse_charge=reverse_charge, vat_note=note, issued_by=by,
        )  # fmt: skip
        issued.append((invoice, lines))
    Invoice.objects.bulk_create([invoice for invoice, _lines in issued])
    issued = [(invoice, [_line(invoice, line) for line in lines]) for invoice, lines in issued]
    InvoiceLine.objects.bulk_create([line for _invoice, lines in issued for line in lines])
    AuditEvent.objects.bulk_create(
        [
            audit.unsaved("invoice.issued", actor=by, customer=invoice.customer, obj=invoice, total=str(invoice.total))
            for invoice, _lines in issued
        ]
    )
    return issued


def _line(invoice: Invoice, line: Line) -> InvoiceLine:
    return InvoiceLine(
        invoice=invoice, description=line.description, quantity=line.quantity, unit_price=money(line.unit_price),
        amount=money(line.unit_price * line.quantity), credit_pack=line.credit_pack,
        credits=line.credits * line.quantity, service=line.service, period_start=line.period_start,
        period_end=line.period_end,
    )  # fmt: skip


def buy_credit_pack(*, customer: Customer, pack: CreditPack, by: User, today: datetime.date | None = None) -> Invoice:
    """An invoice for the pack; its credits are granted when it is paid (billing.payments)."""
    if not pack.is_active:
        raise ValueError(_("This pack is no longer for sale."))
    description = _("Service credits: %(name)s (%(credits)d credits)") % {"name": pack.name, "credits": pack.credits}
    return issue(
        customer=customer,
        lines=[Line(description=description, unit_price=pack.price, credit_pack=pack, credits=pack.credits)],
        by=by,
        today=today,
    )
