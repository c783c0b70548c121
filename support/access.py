"""Art. 7.3: the customer grants staff access to its configuration, per ticket or for a time."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Customer, User
from portal import audit
from support.models import StaffAccessGrant, Status, Ticket, TicketEvent

DURATIONS = {"1d": datetime.timedelta(days=1), "7d": datetime.timedelta(days=7), "30d": datetime.timedelta(days=30)}


def active_grants(customer: Customer, now: datetime.datetime | None = None):
    now = now or timezone.now()
    return (
        StaffAccessGrant.objects.filter(customer=customer, revoked_at=None)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .exclude(ticket__status=Status.CLOSED)  # a ticket's grant lasts until the ticket is closed
    )


def grant_for_ticket(ticket: Ticket, now: datetime.datetime | None = None) -> StaffAccessGrant | None:
    """The grant that lets staff into the configuration for this ticket, if any."""
    return (
        active_grants(ticket.customer, now)
        .filter(Q(ticket=ticket) | Q(ticket__isnull=True))
        .order_by("ticket_id")  # a customer-wide grant last
        .first()
    )


@transaction.atomic
def grant(
    *, customer: Customer, by: User, ticket: Ticket | None = None, duration: str | None = None, request=None,
    now: datetime.datetime | None = None,
) -> StaffAccessGrant:  # fmt: skip
    """Grant for one ticket (until it is revoked or closed) or, without a ticket, for a limited time."""
    now = now or timezone.now()
    if ticket is None and duration not in DURATIONS:
        raise ValidationError(_("Choose for how long staff may access your configuration."))
    if ticket is not None and ticket.customer_id != customer.pk:
        raise ValidationError(_("This ticket belongs to another customer."))
    expires_at = now + DURATIONS[duration] if duration in DURATIONS else None
    access = StaffAccessGrant.objects.create(
        customer=customer, ticket=ticket, granted_by=by, granted_at=now, expires_at=expires_at
    )
    if ticket is not None:
        TicketEvent.objects.create(ticket=ticket, actor=by, field=TicketEvent.Field.STAFF_ACCESS, new_value="granted")
    audit.record(
        "staff_access.granted", actor=by, customer=customer, obj=access, request=request,
        ticket=ticket.number if ticket else "", until=expires_at.isoformat() if expires_at else "",
    )  # fmt: skip
    return access


@transaction.atomic
def revoke(*, access: StaffAccessGrant, by: User, request=None, now: datetime.datetime | None = None) -> None:
    now = now or timezone.now()
    updated = StaffAccessGrant.objects.filter(pk=access.pk, revoked_at=None).update(revoked_at=now, revoked_by=by)
    if not updated:
        return
    if access.ticket_id:
        TicketEvent.objects.create(
            ticket_id=access.ticket_id, actor=by, field=TicketEvent.Field.STAFF_ACCESS, new_value="revoked"
        )
    audit.record("staff_access.revoked", actor=by, customer=access.customer, obj=access, request=request)
