"""Orders from the catalogue: the customer places, staff accept or refuse, the customer may cancel.

Nothing is active before staff accept (art. 2.1: an order is part of the contract once accepted);
acceptance creates the services with their first period and issues their first invoice.
"""

import datetime
from decimal import Decimal
from typing import NamedTuple

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import Customer, User
from accounts.roles import PERMISSIONS, Permission
from billing import invoices
from portal import audit, mail
from services import lifecycle, m365
from services.models import ADDON_KINDS, Kind, Order, OrderLine, Plan, Service

# Domains and certificates are not ordered from the catalogue: the registry or the CA decides,
# so they have request flows of their own (art. 4.2, 5.1).
ORDERED_ELSEWHERE = {
    Kind.DOMAIN: gettext_lazy(
        "Domain names are not ordered here: request a registration, a transfer or a trade from the Domains page."
    ),
    Kind.SSL_CERTIFICATE: gettext_lazy(
        "SSL certificates are not ordered here: request one from the Certificates page."
    ),
}
ORDERABLE_KINDS = [kind for kind in Kind if kind not in ORDERED_ELSEWHERE]


class Item(NamedTuple):
    """One line the customer asks for; a plain ``(plan, name, quantity, parent_service)`` tuple works too."""

    plan: Plan
    name: str
    quantity: int = 1
    parent_service: Service | None = None


def orderable_plans():
    return Plan.objects.filter(is_active=True, kind__in=ORDERABLE_KINDS)


def in_catalogue_order(plans) -> list[Plan]:
    """Plans by kind as the catalogue lists them (hosting, its add-ons, …), then by price."""
    rank = {kind.value: position for position, kind in enumerate(Kind)}
    return sorted(plans, key=lambda plan: (rank.get(plan.kind, len(rank)), plan.price, plan.name))


def max_users(plan: Plan) -> int | None:
    """The users a Microsoft 365 pack allows, from its specifications (art. 6.1.2), if it says."""
    value = (plan.specifications or {}).get("max_users")
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def price_text(plan: Plan) -> str:
    """The price per period as the catalogue shows it: "59.00 EUR per year" (excl. VAT)."""
    amount = f"{number_format(plan.price, 2)} EUR"
    if plan.kind == Kind.M365_PACK:
        per_period = _("per user per month") if plan.period_months in (0, 1) else _("per user")
    elif plan.period_months == 12:
        per_period = _("per year")
    elif plan.period_months in (0, 1):
        per_period = _("per month")
    else:
        per_period = ngettext("per %(months)d month", "per %(months)d months", plan.period_months) % {
            "months": plan.period_months
        }
    return _("%(amount)s %(period)s, excl. VAT") % {"amount": amount, "period": per_period}


def period_end(plan: Plan, start: datetime.date) -> datetime.date | None:
    return start + relativedelta(months=plan.period_months) if plan.period_months else None


def _check_parent(*, customer: Customer, plan: Plan, parent: Service | None) -> None:
    if plan.kind not in ADDON_KINDS:
        if parent is not None:
            raise ValidationError({"parent_service": _("Only CMS, managed CMS and caching belong to a hosting.")})
        return
    if parent is None:
        raise ValidationError(
            {"parent_service": _("Choose the shared hosting this add-on is for (art. 3.2.3, 3.3.2).")}
        )
    if (
        parent.customer_id != customer.pk
        or parent.plan.kind != Kind.SHARED_HOSTING
        or parent.status != Service.Status.ACTIVE
    ):
        raise ValidationError(
            {
                "parent_service": _(
                    "An add-on can only be ordered for an active shared hosting of yours (art. 3.2.3, 3.3.2)."
                )
            }
        )


def check_item(*, customer: Customer, item: Item) -> Item:
    """Raise ``ValidationError`` (keyed by field) when ``customer`` may not order ``item``; return it cleaned."""
    plan, name, quantity, parent = Item(*item)
    if plan.kind in ORDERED_ELSEWHERE:
        raise ValidationError({"plan": ORDERED_ELSEWHERE[plan.kind]})
    if not plan.is_active:
        raise ValidationError({"plan": _("%(plan)s can no longer be ordered.") % {"plan": plan.name}})
    if plan.kind == Kind.M365_PACK and not customer.is_established_in_eu:
        raise ValidationError(
            {"plan": _("Microsoft 365 is only available to customers established in the European Union (art. 6.1.2).")}
        )
    _check_parent(customer=customer, plan=plan, parent=parent)
    name = (name or "").strip()
    if not name and parent is not None:
        name = (_("%(kind)s for %(hosting)s") % {"kind": plan.get_kind_display(), "hosting": parent.name})[:255]
    if not name:
        raise ValidationError({"name": _("Name the site or the pack this is for.")})
    if len(name) > 255:
        raise ValidationError({"name": _("At most 255 characters.")})
    if not isinstance(quantity, int) or quantity < 1:
        raise ValidationError({"quantity": _("Order at least one.")})
    if plan.kind == Kind.M365_PACK:
        limit = max_users(plan)
        if limit is not None and quantity > limit:
            raise ValidationError(
                {"quantity": _("This pack allows at most %(limit)d users (art. 6.1.2).") % {"limit": limit}}
            )
    elif quantity != 1:
        raise ValidationError({"quantity": _("Order one per line: each line becomes one service.")})
    return Item(plan, name, quantity, parent)


@transaction.atomic
def place_order(
    *, customer: Customer, by: User, lines: list[Item | tuple], now: datetime.datetime | None = None
) -> Order:
    """A submitted order: nothing is active or invoiced until staff accept it (art. 2.1)."""
    if not lines:
        raise ValidationError(_("An order needs at least one product."))
    items = [check_item(customer=customer, item=item) for item in lines]
    order = Order.objects.create(customer=customer, placed_by=by, created_at=now or timezone.now())
    OrderLine.objects.bulk_create(
        OrderLine(order=order, plan=plan, name=name, quantity=quantity, parent_service=parent)
        for plan, name, quantity, parent in items
    )
    audit.record("order.placed", actor=by, customer=customer, obj=order, lines=len(items))
    _to_staff(order, "order_placed_staff")
    return order


def _locked_submitted(order: Order) -> Order:
    locked = Order.objects.select_for_update(of=("self",)).select_related("customer").get(pk=order.pk)
    if locked.status != Order.Status.SUBMITTED:
        raise ValidationError(
            _("Order %(number)s is no longer awaiting a decision: it is %(status)s.")
            % {"number": locked.pk, "status": locked.get_status_display().lower()}
        )
    return locked


def acceptance_problems(order: Order) -> list[str]:
    """Why staff cannot accept the order now (an add-on's hosting is no longer active…); empty when they can."""
    problems = []
    for line in order.lines.select_related("plan", "parent_service__plan"):
        if line.plan.kind in ADDON_KINDS and (
            line.parent_service is None
            or line.parent_service.status != Service.Status.ACTIVE
            or line.parent_service.customer_id != order.customer_id
        ):
            name = line.parent_service.name if line.parent_service else "—"
            problems.append(
                _("%(line)s: the shared hosting %(hosting)s is no longer active (art. 3.2.3, 3.3.2).")
                % {"line": line.name, "hosting": name}
            )
    return problems


@transaction.atomic
def accept_order(
    *, order: Order, by: User, today: datetime.date | None = None, now: datetime.datetime | None = None
) -> Order:
    """Create one active service per line with its first period, issue the first invoice, tell the customer."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    locked = _locked_submitted(order)
    # Lock the hostings add-ons hang on, so none ends between this check and the new add-on.
    parent_ids = list(locked.lines.filter(parent_service__isnull=False).values_list("parent_service", flat=True))
    list(Service.objects.select_for_update().filter(pk__in=parent_ids))
    problems = acceptance_problems(locked)
    if problems:
        raise ValidationError(problems)
    invoice_lines = []
    for line in locked.lines.select_related("plan", "parent_service"):
        service = Service(
            customer=locked.customer, plan=line.plan, name=line.name, status=Service.Status.ACTIVE,
            started_on=today, current_period_end=period_end(line.plan, today), parent=line.parent_service,
            quantity=line.quantity, created_at=now,
        )  # fmt: skip
        service.save()
        lifecycle.created(service, by, now=now)
        lifecycle.record_period(service=service, start=today, end=service.current_period_end, by=by, now=now)
        line.service = service
        line.save(update_fields=["service"])
        # The line pays the service's first period, so renewals invoice the next one and never this one.
        start, end = today, service.current_period_end
        if line.plan.kind == Kind.M365_PACK:  # billed by the calendar month, like the monthly billing job
            start = today.replace(day=1)
            end = start + relativedelta(months=1)
            m365.start_licences(service=service, by=by, now=now)
        invoice_lines.append(
            invoices.Line(
                description=f"{line.plan.name} — {line.name}", unit_price=line.plan.price, quantity=line.quantity,
                service=service, period_start=start, period_end=end,
            )
        )  # fmt: skip
    invoice_lines.extend(m365.integration_lines(locked))  # art. 6.1.4: agreed with the order
    invoice = invoices.issue(customer=locked.customer, lines=invoice_lines, by=by, today=today)
    locked.status, locked.decided_by, locked.decided_at, locked.invoice = Order.Status.ACCEPTED, by, now, invoice
    locked.save(update_fields=["status", "decided_by", "decided_at", "invoice"])
    audit.record("order.accepted", actor=by, customer=locked.customer, obj=locked, invoice=invoice.number)
    _to_customer(locked, "order_accepted", invoice=invoice)
    return locked


@transaction.atomic
def refuse_order(*, order: Order, by: User, reason: str, now: datetime.datetime | None = None) -> Order:
    """Staff refuse with a reason the customer reads; nothing is created or invoiced."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"refusal_reason": _("Give the customer the reason of the refusal.")})
    locked = _locked_submitted(order)
    locked.status, locked.decided_by, locked.decided_at = Order.Status.REFUSED, by, now or timezone.now()
    locked.refusal_reason = reason
    locked.save(update_fields=["status", "decided_by", "decided_at", "refusal_reason"])
    audit.record("order.refused", actor=by, customer=locked.customer, obj=locked, reason=reason[:500])
    _to_customer(locked, "order_refused")
    return locked


@transaction.atomic
def cancel_order(*, order: Order, by: User, now: datetime.datetime | None = None) -> Order:
    """The customer withdraws an order staff have not decided yet."""
    locked = _locked_submitted(order)
    locked.status, locked.decided_by, locked.decided_at = Order.Status.CANCELLED, by, now or timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    audit.record("order.cancelled", actor=by, customer=locked.customer, obj=locked)
    return locked


def order_total(order: Order) -> Decimal:
    """The order's price excl. VAT at today's catalogue prices (the invoice, once issued, is what counts)."""
    return sum((line.plan.price * line.quantity for line in order.lines.all()), Decimal("0"))


# E-mails (sent after commit)


def customer_recipients(order: Order) -> list[str]:
    """Who buys for the customer (roles that may spend), whoever placed the order, and the billing address."""
    roles = PERMISSIONS[Permission.SPEND]
    emails = set(
        order.customer.memberships.filter(role__in=roles, user__is_active=True).values_list("user__email", flat=True)
    )
    if order.placed_by_id and order.placed_by.is_active:
        emails.add(order.placed_by.email)
    if order.customer.billing_email:
        emails.add(order.customer.billing_email)
    return sorted(emails)


def _context(order: Order, **extra) -> dict:
    lines = list(order.lines.select_related("plan", "service", "parent_service"))
    return {"order": order, "lines": lines, **extra}


def _to_customer(order: Order, template: str, **extra) -> None:
    to = customer_recipients(order)
    if to:
        link = settings.PORTAL_BASE_URL + order.get_absolute_url()
        mail.send_templated(
            to=to, template_prefix=f"services/email/{template}", context=_context(order, link=link, **extra),
            language=order.customer.preferred_language,
        )  # fmt: skip


def _to_staff(order: Order, template: str) -> None:
    to = list(settings.SUPPORT_STAFF_EMAILS) or sorted(
        User.objects.filter(is_staff=True, is_active=True).values_list("email", flat=True)
    )
    if to:
        link = settings.PORTAL_BASE_URL + reverse("admin:services_order_change", args=[order.pk])
        mail.send_templated(
            to=to, template_prefix=f"services/email/{template}", context=_context(order, link=link),
            language=settings.LANGUAGE_CODE,
        )  # fmt: skip
