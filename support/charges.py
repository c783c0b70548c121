"""Charging interventions in service credits (art. 7.4 and annex 1).

- Per started 15 minutes: the ticket's logged time is counted as a whole, so two entries of
  10 minutes cost two quarter-hours, not one each twice; each entry pays the quarter-hours it
  starts, at the rate of the ticket's priority when it is logged.
- Per intervention: the rate once per ticket, with the first time entry.
- Free: nothing. On quote, and work annex 1 does not price: a quote the customer accepts.
- When the balance cannot pay, nothing is charged: the entry waits, the ticket goes to
  "awaiting credits" and the customer is told; staff charge again once credits are bought.
"""

import datetime
import math

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from billing import ledger
from support import notifications, tickets
from support.models import Quote, Status, Ticket, TimeEntry, Unit

QUARTER = 15


def _credits_for(ticket: Ticket, minutes: int) -> int:
    reason = ticket.reason
    rate = reason.credits_for(ticket.priority)
    if reason.unit == Unit.PER_QUARTER_HOUR:
        before = ticket.time_entries.exclude(charge=TimeEntry.Charge.ON_QUOTE).aggregate(m=Sum("minutes"))["m"] or 0
        return (math.ceil((before + minutes) / QUARTER) - math.ceil(before / QUARTER)) * rate
    if reason.unit == Unit.PER_INTERVENTION:
        already = ticket.time_entries.filter(credits__gt=0).exists()
        return 0 if already else rate
    return 0


def _spend(ticket: Ticket, credits: int, *, by: User, reason: str, **links) -> bool:
    try:
        ledger.spend(ticket.customer, credits, reason=reason, by=by, ticket=ticket, **links)
    except ledger.InsufficientCredits:
        return False
    return True


def _awaiting_credits(ticket: Ticket, credits: int, by: User, now: datetime.datetime) -> None:
    if ticket.status != Status.AWAITING_CREDITS:
        tickets.change_status(ticket=ticket, status=Status.AWAITING_CREDITS, by=by, now=now)
    notifications.awaiting_credits_to_customer(ticket, credits=credits, balance=ledger.balance(ticket.customer))


@transaction.atomic
def log_time(
    *, ticket: Ticket, staff: User, minutes: int, note: str = "", now: datetime.datetime | None = None
) -> TimeEntry:
    now = now or timezone.now()
    if minutes <= 0:
        raise ValidationError({"minutes": _("Log a positive number of minutes.")})
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("reason", "customer").get(pk=ticket.pk)
    if ticket.reason.unit == Unit.ON_QUOTE:
        return TimeEntry.objects.create(
            ticket=ticket, staff=staff, minutes=minutes, note=note, charge=TimeEntry.Charge.ON_QUOTE, created_at=now
        )
    credits = _credits_for(ticket, minutes)
    entry = TimeEntry.objects.create(
        ticket=ticket, staff=staff, minutes=minutes, note=note, credits=credits, created_at=now,
        charge=TimeEntry.Charge.NOT_CHARGED if credits == 0 else TimeEntry.Charge.AWAITING_CREDITS,
    )  # fmt: skip
    if credits:
        if _spend(ticket, credits, by=staff, reason=f"{ticket.number}: {minutes} min", time_entry=entry):
            entry.charge = TimeEntry.Charge.CHARGED
            entry.save(update_fields=["charge"])
        else:
            _awaiting_credits(ticket, credits, staff, now)
    return entry


@transaction.atomic
def charge_pending(*, ticket: Ticket, by: User, now: datetime.datetime | None = None) -> int:
    """Charge what waited for credits, oldest first; returns how many charges went through."""
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("reason", "customer").get(pk=ticket.pk)
    done, short = 0, 0
    for entry in ticket.time_entries.filter(charge=TimeEntry.Charge.AWAITING_CREDITS).order_by("created_at", "pk"):
        if _spend(ticket, entry.credits, by=by, reason=f"{ticket.number}: {entry.minutes} min", time_entry=entry):
            entry.charge = TimeEntry.Charge.CHARGED
            entry.save(update_fields=["charge"])
            done += 1
        else:
            short += entry.credits
    for quote in ticket.quotes.filter(status=Quote.Status.AWAITING_CREDITS).order_by("proposed_at", "pk"):
        if _spend(ticket, quote.credits, by=by, reason=f"{ticket.number}: quote", quote=quote):
            quote.status = Quote.Status.ACCEPTED
            quote.save(update_fields=["status"])
            done += 1
        else:
            short += quote.credits
    if short:
        _awaiting_credits(ticket, short, by, now)
    elif ticket.status == Status.AWAITING_CREDITS:
        tickets.change_status(ticket=ticket, status=Status.IN_PROGRESS, by=by, now=now)
    return done


@transaction.atomic
def propose_quote(*, ticket: Ticket, credits: int, description: str, by: User) -> Quote:
    if credits <= 0:
        raise ValidationError({"credits": _("A quote is a positive number of credits.")})
    quote = Quote.objects.create(ticket=ticket, credits=credits, description=description.strip(), proposed_by=by)
    notifications.quote_to_customer(quote)
    return quote


@transaction.atomic
def accept_quote(*, quote: Quote, by: User, now: datetime.datetime | None = None) -> Quote:
    """The customer accepts: the credits are spent now, or the quote waits for credits."""
    now = now or timezone.now()
    quote = (
        Quote.objects.select_for_update(of=("self",))
        .select_related("ticket__customer", "ticket__reason")
        .get(pk=quote.pk)
    )
    if quote.status != Quote.Status.PROPOSED:
        raise ValidationError(_("This quote has already been answered."))
    quote.decided_by, quote.decided_at = by, now
    ticket = quote.ticket
    if _spend(ticket, quote.credits, by=by, reason=f"{ticket.number}: quote", quote=quote):
        quote.status = Quote.Status.ACCEPTED
        quote.save(update_fields=["status", "decided_by", "decided_at"])
    else:
        quote.status = Quote.Status.AWAITING_CREDITS
        quote.save(update_fields=["status", "decided_by", "decided_at"])
        _awaiting_credits(ticket, quote.credits, by, now)
    notifications.quote_answered_to_staff(quote)
    return quote


@transaction.atomic
def decline_quote(*, quote: Quote, by: User, now: datetime.datetime | None = None) -> Quote:
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    if quote.status != Quote.Status.PROPOSED:
        raise ValidationError(_("This quote has already been answered."))
    quote.status, quote.decided_by, quote.decided_at = Quote.Status.DECLINED, by, now or timezone.now()
    quote.save(update_fields=["status", "decided_by", "decided_at"])
    notifications.quote_answered_to_staff(quote)
    return quote


@transaction.atomic
def charge_intervention(
    *, ticket: Ticket, by: User, note: str, minutes: int = QUARTER, now: datetime.datetime | None = None
) -> TimeEntry:
    """Work annex 1 prices per intervention (e.g. staff updating a zone's records for the ticket):
    the time spent is logged, and the rate is charged once per ticket, with its first entry."""
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("reason").get(pk=ticket.pk)
    if ticket.reason.unit != Unit.PER_INTERVENTION:
        raise ValidationError(
            {"ticket": _("This ticket's reason is not charged per intervention: change its reason first.")}
        )
    return log_time(ticket=ticket, staff=by, minutes=minutes, note=note, now=now)
