"""Every change of a ticket: one function each, atomic, recorded in the ticket's history.

Views, admin actions and commands call these; none of them changes a ticket by itself.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Customer, User
from portal import counters
from services.models import Service
from support import attachments, notifications, sla
from support.catalogue import GROUP_SERVICE_KINDS
from support.models import (
    InterventionType,
    Priority,
    Remark,
    Status,
    Ticket,
    TicketCounter,
    TicketEvent,
)


def format_number(year: int, sequence: int) -> str:
    return f"T-{year}-{sequence:06d}"


def _next_number(year: int) -> str:
    return format_number(year, counters.next_in_year(TicketCounter, year))


def deadline_for(*, reason: InterventionType, priority: str, logged_at: datetime.datetime) -> datetime.datetime | None:
    """Art. 7.6 for the reason's kind and the priority; none for the rows without response times."""
    if not reason.response_time_applies:
        return None
    return sla.response_deadline(logged_at, reason.kind, priority)


def _record(ticket: Ticket, field: str, old: str, new: str, actor: User | None, now: datetime.datetime) -> None:
    TicketEvent.objects.create(
        ticket=ticket, actor=actor, field=field, old_value=str(old)[:200], new_value=str(new)[:200], created_at=now
    )


def check_reason_fits_service(reason: InterventionType, service: Service | None) -> None:
    if service is not None and service.plan.kind not in GROUP_SERVICE_KINDS[reason.service_group]:
        raise ValidationError({"reason": _("This reason does not apply to the chosen service.")})


@transaction.atomic
def open_ticket(
    *,
    customer: Customer,
    opened_by: User,
    reason: InterventionType,
    priority: str,
    subject: str,
    description: str,
    service: Service | None = None,
    files=(),
    now: datetime.datetime | None = None,
) -> Ticket:
    now = now or timezone.now()
    if not reason.is_active:
        raise ValidationError({"reason": _("This reason is no longer offered. Please choose another one.")})
    if service is not None and service.customer_id != customer.pk:
        raise ValidationError({"service": _("Choose one of your services.")})
    check_reason_fits_service(reason, service)
    Priority(priority)
    attachments.validate_all(files)
    ticket = Ticket.objects.create(
        number=_next_number(timezone.localtime(now).year),
        customer=customer,
        service=service,
        reason=reason,
        kind=reason.kind,
        priority=priority,
        subject=subject.strip(),
        description=description.strip(),
        opened_by=opened_by,
        logged_at=now,
        response_deadline=deadline_for(reason=reason, priority=priority, logged_at=now),
    )
    _record(ticket, TicketEvent.Field.OPENED, "", ticket.get_priority_display(), opened_by, now)
    attachments.save_all(ticket=ticket, remark=None, files=files, by=opened_by)
    notifications.new_ticket_to_staff(ticket)
    return ticket


def _locked(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update(of=("self",)).select_related("reason", "customer").get(pk=ticket.pk)


@transaction.atomic
def add_remark(*, ticket: Ticket, author: User, body: str, files=(), now: datetime.datetime | None = None) -> Remark:
    """A remark of the customer (art. 7.2: the customer adds remarks in the portal)."""
    now = now or timezone.now()
    ticket = _locked(ticket)
    if not ticket.is_open:
        raise ValidationError(_("This ticket is closed. Reopen it to add a remark."))
    if not body.strip():
        raise ValidationError({"body": _("Write a message.")})
    attachments.validate_all(files)
    remark = Remark.objects.create(ticket=ticket, author=author, body=body.strip(), created_at=now)
    attachments.save_all(ticket=ticket, remark=remark, files=files, by=author)
    if ticket.status == Status.WAITING_ON_CUSTOMER:
        _set_status(ticket, Status.IN_PROGRESS, author, now)
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
    notifications.remark_to_staff(remark)
    return remark


@transaction.atomic
def add_staff_reply(
    *, ticket: Ticket, author: User, body: str, internal: bool = False, files=(), now: datetime.datetime | None = None
) -> Remark:
    """A staff reply (sent to the customer) or an internal note (staff only).

    The first public reply is the contract's "Réponse": it stamps the first response once.
    """
    now = now or timezone.now()
    ticket = _locked(ticket)
    if not body.strip():
        raise ValidationError({"body": _("Write a message.")})
    attachments.validate_all(files)
    remark = Remark.objects.create(
        ticket=ticket, author=author, body=body.strip(), by_staff=True, is_internal=internal, created_at=now
    )
    attachments.save_all(ticket=ticket, remark=remark, files=files, by=author)
    if not internal:
        _stamp_first_response(ticket, now, author)
        if ticket.status == Status.NEW:
            _set_status(ticket, Status.IN_PROGRESS, author, now)
        notifications.reply_to_customer(remark)
    return remark


def _stamp_first_response(ticket: Ticket, now: datetime.datetime, actor: User) -> None:
    in_time = None
    if ticket.response_deadline is not None:
        in_time = sla.is_in_time(ticket.logged_at, now, ticket.kind, ticket.priority)
    stamped = Ticket.objects.filter(pk=ticket.pk, first_response_at__isnull=True).update(
        first_response_at=now, responded_in_time=in_time
    )
    if stamped:
        ticket.first_response_at, ticket.responded_in_time = now, in_time
        _record(ticket, TicketEvent.Field.FIRST_RESPONSE, "", timezone.localtime(now).isoformat(), actor, now)


def _recompute_deadline(ticket: Ticket) -> None:
    """Art. 7.2: priority or reason changed; the clock still runs from the logging time."""
    ticket.response_deadline = deadline_for(reason=ticket.reason, priority=ticket.priority, logged_at=ticket.logged_at)
    if ticket.first_response_at is not None and ticket.response_deadline is not None:
        ticket.responded_in_time = sla.is_in_time(
            ticket.logged_at, ticket.first_response_at, ticket.kind, ticket.priority
        )
    elif ticket.response_deadline is None:
        ticket.responded_in_time = None
    ticket.save(update_fields=["response_deadline", "responded_in_time", "kind", "priority", "reason", "updated_at"])


@transaction.atomic
def change_priority(*, ticket: Ticket, priority: str, by: User, now: datetime.datetime | None = None) -> Ticket:
    now = now or timezone.now()
    ticket = _locked(ticket)
    Priority(priority)
    if ticket.priority == priority:
        return ticket
    old = ticket.get_priority_display()
    ticket.priority = priority
    _recompute_deadline(ticket)
    _record(ticket, TicketEvent.Field.PRIORITY, old, ticket.get_priority_display(), by, now)
    return ticket


@transaction.atomic
def change_reason(
    *, ticket: Ticket, reason: InterventionType, by: User, now: datetime.datetime | None = None
) -> Ticket:
    """Staff may change the reason at any time (art. 7.2), also to a retired entry."""
    now = now or timezone.now()
    ticket = _locked(ticket)
    if ticket.reason_id == reason.pk:
        return ticket
    old = ticket.reason.display_label
    ticket.reason = reason
    ticket.kind = reason.kind
    _recompute_deadline(ticket)
    _record(ticket, TicketEvent.Field.REASON, old, reason.display_label, by, now)
    return ticket


def _set_status(ticket: Ticket, status: str, by: User | None, now: datetime.datetime) -> None:
    old = ticket.get_status_display()
    ticket.status = status
    ticket.closed_at = now if status == Status.CLOSED else None
    ticket.save(update_fields=["status", "closed_at", "updated_at"])
    _record(ticket, TicketEvent.Field.STATUS, old, ticket.get_status_display(), by, now)


@transaction.atomic
def change_status(*, ticket: Ticket, status: str, by: User, now: datetime.datetime | None = None) -> Ticket:
    now = now or timezone.now()
    ticket = _locked(ticket)
    Status(status)
    if ticket.status == status:
        return ticket
    old_status = ticket.status
    _set_status(ticket, status, by, now)
    notifications.status_to_customer(ticket, old_status)
    return ticket


def close(*, ticket: Ticket, by: User, now: datetime.datetime | None = None) -> Ticket:
    return change_status(ticket=ticket, status=Status.CLOSED, by=by, now=now)


@transaction.atomic
def reopen(*, ticket: Ticket, by: User, now: datetime.datetime | None = None) -> Ticket:
    """The customer reopens a closed ticket within the reopen window."""
    now = now or timezone.now()
    ticket = _locked(ticket)
    if not ticket.can_reopen(now):
        raise ValidationError(_("This ticket was closed too long ago to be reopened. Please open a new one."))
    _set_status(ticket, Status.IN_PROGRESS, by, now)
    notifications.remark_to_staff(None, ticket=ticket, reopened=True)
    return ticket


@transaction.atomic
def assign(*, ticket: Ticket, assignee: User | None, by: User, now: datetime.datetime | None = None) -> Ticket:
    now = now or timezone.now()
    ticket = _locked(ticket)
    if assignee is not None and not assignee.is_staff:
        raise ValidationError(_("Only staff can be assigned to a ticket."))
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    old = ticket.assignee.email if ticket.assignee_id else ""
    ticket.assignee = assignee
    ticket.save(update_fields=["assignee", "updated_at"])
    _record(ticket, TicketEvent.Field.ASSIGNEE, old, assignee.email if assignee else "", by, now)
    return ticket
