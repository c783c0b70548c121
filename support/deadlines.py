"""Response deadlines seen from a given instant: which tickets are at risk or breached, and the staff warnings.

"Breached" means working time has passed since the deadline (art. 7.6 counts working time only): a ticket
due at 18:00 is not breached at 19:00 the same evening, only from 08:00 the next working day. The database
finds those tickets with a plain comparison against ``sla.last_working_instant(now)``.
"""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, Exists, OuterRef, Q, Value, When

from support import notifications, sla
from support.models import OPEN_STATUSES, DeadlineWarning, Ticket

AT_RISK_MARGIN = datetime.timedelta(hours=1)  # "less than one working hour left"

AT_RISK = DeadlineWarning.Level.AT_RISK
BREACHED = DeadlineWarning.Level.BREACHED


def _awaiting_response() -> Q:
    return Q(status__in=OPEN_STATUSES, first_response_at__isnull=True, response_deadline__isnull=False)


def unanswered_past_deadline(now: datetime.datetime) -> Q:
    """Open tickets without a first response whose deadline has working time behind it."""
    return _awaiting_response() & Q(response_deadline__lt=sla.last_working_instant(now))


def breached(now: datetime.datetime) -> Q:
    """Unanswered past the deadline, or answered late."""
    return unanswered_past_deadline(now) | Q(responded_in_time=False)


def at_risk(now: datetime.datetime) -> Q:
    """Open, unanswered, not breached yet, with at most one working hour left.

    The lower bound is ``>=`` (the complement of breached), so a ticket due at 18:00 is still at risk
    at 19:00 that evening: it has no working time left but is not breached until the next opening.
    """
    return _awaiting_response() & Q(
        response_deadline__gte=sla.last_working_instant(now),
        response_deadline__lte=sla.add_working_time(now, AT_RISK_MARGIN),
    )


def due_on(day: datetime.date) -> Q:
    """Open, unanswered tickets whose deadline falls on ``day`` (the support desk's local date)."""
    zone = sla.Calendar().zone
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    return _awaiting_response() & Q(response_deadline__gte=start, response_deadline__lt=end)


def sla_state(now: datetime.datetime) -> Case:
    """An annotation: "breached", "at_risk" or "" — the same rules as the filters, for highlighting a list."""
    return Case(
        When(breached(now), then=Value("breached")),
        When(at_risk(now), then=Value("at_risk")),
        default=Value(""),
        output_field=CharField(),
    )


def pending_warnings(now: datetime.datetime) -> list[Ticket]:
    """Tickets that need a warning now and have not had it for this deadline, each with ``warning_level``.

    One query. A ticket that went from "not at risk" to "breached" between two runs gets only the
    breached warning.
    """
    level = Case(
        When(response_deadline__lt=sla.last_working_instant(now), then=Value(BREACHED.value)),
        default=Value(AT_RISK.value),
        output_field=CharField(),
    )
    already_sent = DeadlineWarning.objects.filter(
        ticket=OuterRef("pk"), level=OuterRef("warning_level"), deadline=OuterRef("response_deadline")
    )
    return list(
        Ticket.objects.filter(unanswered_past_deadline(now) | at_risk(now))
        .annotate(warning_level=level)
        .filter(~Exists(already_sent))
        .select_related("customer", "assignee")
        .order_by("response_deadline", "pk")
    )


def claim(ticket: Ticket, level: str, now: datetime.datetime) -> bool:
    """Record the warning; False when it was already recorded (by an earlier run or a concurrent worker)."""
    try:
        with transaction.atomic():
            DeadlineWarning.objects.create(ticket=ticket, level=level, deadline=ticket.response_deadline, sent_at=now)
    except IntegrityError:
        return False
    return True


def warn_response_deadlines(*, now: datetime.datetime, dry_run: bool = False) -> dict[str, int]:
    """Warn staff once when an unanswered ticket has under one working hour left and once when it is breached.

    Exactly once per ticket, level and deadline: the DeadlineWarning unique constraint decides, also when
    two workers run this at the same time. A priority or reason change moves the deadline, which may
    warrant new warnings. Returns the counts sent (or that would be sent, with ``dry_run``).
    """
    counts = {AT_RISK.value: 0, BREACHED.value: 0, "already_sent": 0}
    for ticket in pending_warnings(now):
        level = ticket.warning_level
        if dry_run:
            counts[level] += 1
        elif claim(ticket, level, now):
            notifications.deadline_warning_to_staff(ticket, level)
            counts[level] += 1
        else:
            counts["already_sent"] += 1
    return counts
