"""Microsoft 365 packs (art. 6): licences added and cancelled at any time, prices by date, ending.

A pack is a ``Service`` of a plan of kind ``m365_pack``: an indefinite contract (art. 6.3.1) whose
``quantity`` holds the licences in force, billed per licence per month at the price in force.
Every change of licences is a ``LicenceChange`` (who, when, how many) sent to the Microsoft
interface; with the built-in manual backend it waits in the admin until staff mark it done.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import Customer, User
from accounts.roles import PERMISSIONS, Permission
from billing.invoices import Line, money
from portal import audit, mail
from services import lifecycle
from services.microsoft import get_microsoft
from services.models import Kind, LicenceChange, Order, OrderIntegration, Plan, PriceChange, Service, ServiceEvent

FINISHED = {Service.Status.ENDED, Service.Status.EXPIRED}
# Why a pack ended, kept in its history and told by e-mail (lazy: in the reader's language).
ENDED_BY_CUSTOMER = gettext_lazy("Ended by the customer (art. 6.3.2).")
LAST_LICENCE_CANCELLED = gettext_lazy("Its last licence was cancelled (art. 6.3.3).")


def max_users(plan: Plan) -> int | None:
    """The users a pack allows, from its specifications (art. 6.1.2); None when they set no limit.
    (Kept here rather than imported from ``services.orders`` so that orders can import this module.)"""
    value = (plan.specifications or {}).get("max_users")
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


# Prices (art. 6.1.6)


def price_in_force(plan: Plan, on: datetime.date) -> Decimal:
    """The unit price (per licence per month) on ``on``: the latest price change effective by then,
    else the catalogue price. Reads ``plan.price_changes.all()``, so a prefetch saves the query."""
    in_force = [change for change in plan.price_changes.all() if change.effective_on <= on]
    return max(in_force, key=lambda change: change.effective_on).price if in_force else plan.price


def upcoming_price_changes(plan: Plan, on: datetime.date) -> list[PriceChange]:
    """The price changes recorded for a date after ``on``, soonest first."""
    return sorted(
        (change for change in plan.price_changes.all() if change.effective_on > on), key=lambda c: c.effective_on
    )


def monthly_total(service: Service, on: datetime.date) -> Decimal:
    """What the pack costs per month on ``on`` (excl. VAT): licences in force × unit price in force."""
    return money(service.quantity * price_in_force(service.plan, on))


def check_price_change(*, plan: Plan, price: Decimal, effective_on: datetime.date, today: datetime.date) -> Decimal:
    """Raise ``ValidationError`` (keyed by field) when the change cannot be recorded; return the price."""
    if plan.kind != Kind.M365_PACK:
        raise ValidationError({"plan": _("Price changes with an effective date are for Microsoft 365 packs.")})
    try:
        price = Decimal(price)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({"price": _("Enter an amount such as 12.50.")}) from None
    if not price.is_finite() or price < 0 or price != price.quantize(Decimal("0.01")):
        raise ValidationError({"price": _("Enter an amount of zero or more with at most two decimals.")})
    if effective_on <= today:
        raise ValidationError(
            {"effective_on": _("A new price applies from a later date, so customers are told before (art. 6.1.6).")}
        )
    if PriceChange.objects.filter(plan=plan, effective_on=effective_on).exists():
        raise ValidationError({"effective_on": _("This plan already has a price change on that date.")})
    return price


@transaction.atomic
def record_price_change(
    *, plan: Plan, price: Decimal, effective_on: datetime.date, by: User | None, today: datetime.date | None = None
) -> PriceChange:
    """Staff record Microsoft's new price of a pack from a date (art. 6.1.6); announce it separately."""
    price = check_price_change(plan=plan, price=price, effective_on=effective_on, today=today or timezone.localdate())
    try:
        with transaction.atomic():
            change = PriceChange.objects.create(plan=plan, price=price, effective_on=effective_on, created_by=by)
    except IntegrityError:  # recorded by someone else meanwhile
        raise ValidationError({"effective_on": _("This plan already has a price change on that date.")}) from None
    audit.record(
        "m365.price_change_recorded", actor=by, obj=change, plan=plan.name, price=str(price),
        effective_on=effective_on.isoformat(),
    )  # fmt: skip
    return change


def announce_price_change(*, change: PriceChange, now: datetime.datetime | None = None, by: User | None = None) -> int:
    """E-mail every customer with an active pack of the plan about the new price, once: a second
    call (or a second worker) finds the change announced and sends nothing. Returns the customers told."""
    now = now or timezone.now()
    with transaction.atomic():
        if not PriceChange.objects.filter(pk=change.pk, announced_at__isnull=True).update(announced_at=now):
            return 0
        change.announced_at = now
        plan = Plan.objects.prefetch_related("price_changes").get(pk=change.plan_id)
        day_before = change.effective_on - datetime.timedelta(days=1)
        old_price = price_in_force(plan, day_before)
        packs = (
            Service.objects.filter(plan=plan, status=Service.Status.ACTIVE)
            .select_related("customer")
            .order_by("customer_id", "name")
        )
        by_customer: dict[int, list[Service]] = {}
        for pack in packs:
            pack.new_total = money(pack.quantity * change.price)
            by_customer.setdefault(pack.customer_id, []).append(pack)
        for customer_packs in by_customer.values():
            customer = customer_packs[0].customer
            _tell(customer, "m365_price_change", plan=plan, change=change, old_price=old_price, packs=customer_packs)
        audit.record("m365.price_change_announced", actor=by, obj=change, plan=plan.name, customers=len(by_customer))
    return len(by_customer)


# Licences (art. 6.1.5) and ending (art. 6.3)


def _locked_pack(service: Service) -> Service:
    locked = Service.objects.select_for_update(of=("self",)).select_related("plan", "customer").get(pk=service.pk)
    if locked.plan.kind != Kind.M365_PACK:
        raise ValidationError(_("This service is not a Microsoft 365 pack."))
    return locked


def check_licences(*, service: Service, delta: int) -> int:
    """Raise ``ValidationError`` when ``delta`` licences cannot be added (+) or cancelled (−) now;
    return the number of licences after the change."""
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise ValidationError({"delta": _("Add or cancel at least one licence.")})
    if service.status != Service.Status.ACTIVE:
        raise ValidationError(_("This pack is not active: its licences cannot be changed."))
    if delta > 0 and not service.customer.is_established_in_eu:
        raise ValidationError(
            _("Microsoft 365 is only available to customers established in the European Union (art. 6.1.2).")
        )
    after = service.quantity + delta
    if after < 0:
        raise ValidationError(
            {
                "delta": ngettext(
                    "This pack has only %(count)d licence to cancel.",
                    "This pack has only %(count)d licences to cancel.",
                    service.quantity,
                )
                % {"count": service.quantity}
            }
        )
    limit = max_users(service.plan)
    if limit is not None and after > limit:
        room = max(limit - service.quantity, 0)
        too_many = ngettext(
            "This pack allows at most %(limit)d user (art. 6.1.2).",
            "This pack allows at most %(limit)d users (art. 6.1.2).",
            limit,
        ) % {"limit": limit}
        can_add = ngettext("You can add %(count)d more licence.", "You can add %(count)d more licences.", room) % {
            "count": room
        }
        raise ValidationError({"delta": f"{too_many} {can_add}"})
    return after


def _fulfilled(change: LicenceChange, now: datetime.datetime) -> None:
    change.fulfilment, change.fulfilled_at = LicenceChange.Fulfilment.DONE, now
    change.save(update_fields=["fulfilment", "fulfilled_at"])


@transaction.atomic
def change_licences(
    *, service: Service, delta: int, by: User | None, now: datetime.datetime | None = None
) -> LicenceChange:
    """Add (delta > 0) or cancel (delta < 0) licences of an active pack, within 0..max users
    (art. 6.1.2, 6.1.5); only customers established in the EU may add. The change is kept with
    who and when, and sent to Microsoft. Cancelling the last licence ends the contract (art. 6.3.3).
    Returns the ``LicenceChange``; ``service.quantity`` (and ``status``) follow."""
    now = now or timezone.now()
    locked = _locked_pack(service)
    after = check_licences(service=locked, delta=delta)
    Service.objects.filter(pk=locked.pk).update(quantity=after)
    service.quantity = locked.quantity = after
    change = LicenceChange.objects.create(service=locked, delta=delta, quantity_after=after, by=by, created_at=now)
    audit.record("m365.licences_changed", actor=by, customer=locked.customer, obj=locked, delta=delta, quantity=after)
    if after == 0:
        _end(locked, by=by, now=now, change=change, note=LAST_LICENCE_CANCELLED)
        service.status = locked.status
    elif get_microsoft().set_licence_count(locked, after):
        _fulfilled(change, now)
    return change


@transaction.atomic
def start_licences(*, service: Service, by: User | None, now: datetime.datetime | None = None) -> LicenceChange:
    """The licences of a pack just ordered and accepted, sent to Microsoft like any later change
    (so staff see the new subscription to open in the admin). For the order's acceptance."""
    now = now or timezone.now()
    locked = _locked_pack(service)
    if locked.quantity < 1 or locked.status != Service.Status.ACTIVE:
        raise ValidationError(_("An active pack with at least one licence is needed."))
    if LicenceChange.objects.filter(service=locked).exists():
        raise ValidationError(_("This pack's licences were already sent to Microsoft."))
    change = LicenceChange.objects.create(
        service=locked, delta=locked.quantity, quantity_after=locked.quantity, by=by, created_at=now
    )
    if get_microsoft().set_licence_count(locked, locked.quantity):
        _fulfilled(change, now)
    return change


@transaction.atomic
def end_contract(*, service: Service, by: User | None, now: datetime.datetime | None = None) -> Service:
    """The customer ends the pack at any time, with immediate effect (art. 6.3.2): its licences
    are cancelled (one change, kept like any other) and the subscription ends at Microsoft."""
    now = now or timezone.now()
    locked = _locked_pack(service)
    if locked.status in FINISHED:
        raise ValidationError(_("This contract has already ended."))
    change = None
    if locked.quantity:
        change = LicenceChange.objects.create(
            service=locked, delta=-locked.quantity, quantity_after=0, by=by, created_at=now
        )
        Service.objects.filter(pk=locked.pk).update(quantity=0)
        locked.quantity = 0
    _end(locked, by=by, now=now, change=change, note=ENDED_BY_CUSTOMER)
    service.quantity, service.status = locked.quantity, locked.status
    return locked


def _end(service: Service, *, by: User | None, now: datetime.datetime, change: LicenceChange | None, note) -> None:
    lifecycle.set_status(service=service, status=Service.Status.ENDED, by=by, now=now)
    ServiceEvent.objects.create(
        service=service, actor=by if by is not None and by.pk else None, field=ServiceEvent.Field.NOTE,
        new_value=str(note)[:200], created_at=now,
    )  # fmt: skip
    if get_microsoft().end_subscription(service) and change is not None:
        _fulfilled(change, now)
    audit.record("m365.contract_ended", actor=by, customer=service.customer, obj=service, reason=str(note))
    _tell(service.customer, "m365_ended", service=service, note=note, ended_at=now)


@transaction.atomic
def mark_done(*, change: LicenceChange, by: User, now: datetime.datetime | None = None) -> bool:
    """Staff applied the change at Microsoft (manual fulfilment): record who and when, once."""
    now = now or timezone.now()
    done = LicenceChange.objects.filter(pk=change.pk, fulfilment=LicenceChange.Fulfilment.PENDING).update(
        fulfilment=LicenceChange.Fulfilment.DONE, fulfilled_by=by, fulfilled_at=now
    )
    if done:
        change.fulfilment, change.fulfilled_by, change.fulfilled_at = LicenceChange.Fulfilment.DONE, by, now
        service = change.service
        audit.record("m365.licence_change_done", actor=by, customer=service.customer, obj=service, change=change.pk)
    return bool(done)


# Optional integration services (art. 6.1.4)


def check_integration(*, order: Order, scope: str, price: Decimal) -> tuple[str, Decimal]:
    """Raise ``ValidationError`` (keyed by field) when the integration cannot be recorded on ``order``;
    return the cleaned scope and price."""
    scope = (scope or "").strip()
    if not scope:
        raise ValidationError({"scope": _("Describe what we will do, when, and for which licences.")})
    try:
        price = Decimal(price)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({"price": _("Enter an amount such as 250.00.")}) from None
    if not price.is_finite() or price < 0 or price != price.quantize(Decimal("0.01")):
        raise ValidationError({"price": _("Enter an amount of zero or more with at most two decimals.")})
    if order.status in (Order.Status.REFUSED, Order.Status.CANCELLED):
        raise ValidationError({"order": _("This order was refused or cancelled.")})
    if not order.lines.filter(plan__kind=Kind.M365_PACK).exists():
        raise ValidationError({"order": _("Integration services come with an order of a Microsoft 365 pack.")})
    return scope, price


@transaction.atomic
def add_integration(*, order: Order, scope: str, price: Decimal, by: User | None) -> OrderIntegration:
    """Record the integration services agreed with the customer when ordering a pack: their scope
    and price (art. 6.1.4). They do not cover licences ordered later unless agreed otherwise."""
    order = Order.objects.select_for_update(of=("self",)).select_related("customer").get(pk=order.pk)
    scope, price = check_integration(order=order, scope=scope, price=price)
    integration = OrderIntegration.objects.create(order=order, scope=scope, price=price)
    audit.record(
        "m365.integration_added", actor=by, customer=order.customer, obj=order, scope=scope[:200], price=str(price)
    )
    return integration


def integration_lines(order: Order) -> list[Line]:
    """The order's integration services as invoice lines, for its first invoice."""
    return [
        Line(description=_("Integration services: %(scope)s") % {"scope": item.scope[:150]}, unit_price=item.price)
        for item in order.integrations.all()
    ]


# The licences page


@dataclass
class Pack:
    """One pack as the licences page shows it on a given day."""

    service: Service
    unit_price: Decimal
    monthly_total: Decimal
    limit: int | None
    upcoming: list[tuple[PriceChange, Decimal]] = field(default_factory=list)  # (change, new monthly total)
    pending: list[LicenceChange] = field(default_factory=list)

    @property
    def can_add(self) -> bool:
        return self.service.is_active and (self.limit is None or self.service.quantity < self.limit)

    @property
    def can_cancel(self) -> bool:
        return self.service.is_active and self.service.quantity > 0


def pack(service: Service, on: datetime.date) -> Pack:
    """Reads prefetched ``plan.price_changes`` and ``pending_changes`` when the caller has them."""
    pending = getattr(service, "pending_changes", None)
    if pending is None:
        pending = list(service.licence_changes.filter(fulfilment=LicenceChange.Fulfilment.PENDING))
    return Pack(
        service=service,
        unit_price=price_in_force(service.plan, on),
        monthly_total=monthly_total(service, on),
        limit=max_users(service.plan),
        upcoming=[(c, money(service.quantity * c.price)) for c in upcoming_price_changes(service.plan, on)],
        pending=pending,
    )


def grand_total(packs: list[Pack]) -> Decimal:
    return money(sum((p.monthly_total for p in packs if p.service.is_active), Decimal("0")))


# E-mails (sent after commit)


def recipients(customer: Customer) -> list[str]:
    """Who buys for the customer (roles that may spend) and the billing address."""
    roles = PERMISSIONS[Permission.SPEND]
    emails = set(
        customer.memberships.filter(role__in=roles, user__is_active=True).values_list("user__email", flat=True)
    )
    if customer.billing_email:
        emails.add(customer.billing_email)
    return sorted(emails)


def _tell(customer: Customer, template: str, **context) -> None:
    to = recipients(customer)
    if to:
        mail.send_templated(
            to=to, template_prefix=f"services/email/{template}", language=customer.preferred_language,
            context={"customer": customer, "link": settings.PORTAL_BASE_URL + reverse("m365_list"), **context},
        )  # fmt: skip
