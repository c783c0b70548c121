"""The monthly response-time report (art. 7.6): how often the first response came within the target.

Tickets counted: logged in the month (the support desk's time zone, Europe/Brussels) and with a response
deadline (the annex-1 rows marked ¹ have none). Per kind and priority:
- responded in time: first public staff reply within the target (``Ticket.responded_in_time``);
- breached: answered late, or not answered and working time has passed since the deadline — at the report's
  ``now``, or at closing for a ticket closed without an answer (its clock stopped there);
- share met: responded in time / (responded in time + breached); tickets still within their deadline, or
  closed unanswered before it, have no outcome yet and are left out of the share;
- median and 90th percentile of the response time in working hours, over the answered tickets, by linear
  interpolation between the closest ranks (the "inclusive" method of ``statistics.quantiles``).
Numbers are Decimals rounded half up (hours to 0.01, the share to 0.1 %), so the output is the same everywhere.
"""

import csv
import datetime
import io
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from support import sla
from support.models import Kind, Priority, Status, Ticket

MICROSECONDS_PER_HOUR = Decimal(3_600_000_000)
ALL = "all"


@dataclass(frozen=True)
class Line:
    kind: str  # a Kind value, or ALL for the totals
    priority: str  # a Priority value, or ALL
    tickets: int
    in_time: int
    breached: int
    response_times: tuple[datetime.timedelta, ...]  # working time to the first response, answered tickets only

    @property
    def share_met(self) -> Decimal | None:
        decided = self.in_time + self.breached
        if not decided:
            return None
        return (Decimal(100 * self.in_time) / decided).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def median_hours(self) -> Decimal | None:
        return percentile_hours(self.response_times, Decimal("0.5"))

    @property
    def p90_hours(self) -> Decimal | None:
        return percentile_hours(self.response_times, Decimal("0.9"))


def percentile_hours(times, fraction: Decimal) -> Decimal | None:
    """The ``fraction`` percentile of working times, in hours, interpolated linearly between ranks."""
    if not times:
        return None
    ordered = sorted(time // datetime.timedelta(microseconds=1) for time in times)
    position = fraction * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    value = ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)
    return (value / MICROSECONDS_PER_HOUR).quantize(Decimal("0.01"), ROUND_HALF_UP)


def parse_month(text: str) -> tuple[int, int]:
    """ "2026-11" -> (2026, 11); ValueError for anything else."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValueError(text)
    return int(match[1]), int(match[2])


def month_bounds(year: int, month: int) -> tuple[datetime.datetime, datetime.datetime]:
    zone = sla.Calendar().zone
    start = datetime.datetime(year, month, 1, tzinfo=zone)
    end = datetime.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start, end


def _is_breached(row: dict, last_working_now: datetime.datetime) -> bool:
    if row["responded_in_time"] is False:
        return True
    if row["first_response_at"] is not None:
        return False
    if row["status"] == Status.CLOSED and row["closed_at"] is not None:
        return row["response_deadline"] < sla.last_working_instant(row["closed_at"])
    return row["response_deadline"] < last_working_now


def sla_report(*, year: int, month: int, now: datetime.datetime) -> list[Line]:
    """One line per kind and priority (all six, in a fixed order), then the totals. One query."""
    start, end = month_bounds(year, month)
    rows = Ticket.objects.filter(logged_at__gte=start, logged_at__lt=end, response_deadline__isnull=False).values(
        "kind", "priority", "status", "logged_at", "response_deadline", "first_response_at", "responded_in_time",
        "closed_at",
    )  # fmt: skip
    last_working_now = sla.last_working_instant(now)
    groups = {(kind, priority): [0, 0, 0, []] for kind in Kind.values for priority in Priority.values}
    for row in rows:
        group = groups[(row["kind"], row["priority"])]
        group[0] += 1
        group[1] += row["responded_in_time"] is True
        group[2] += _is_breached(row, last_working_now)
        if row["first_response_at"] is not None:
            group[3].append(sla.working_time_between(row["logged_at"], row["first_response_at"]))
    lines = [
        Line(kind, priority, tickets, in_time, breached, tuple(times))
        for (kind, priority), (tickets, in_time, breached, times) in groups.items()
    ]
    lines.append(
        Line(
            ALL, ALL, sum(line.tickets for line in lines), sum(line.in_time for line in lines),
            sum(line.breached for line in lines), tuple(time for line in lines for time in line.response_times),
        )
    )  # fmt: skip
    return lines


def _text(value: Decimal | None, suffix: str = "", *, missing: str = "—") -> str:
    return missing if value is None else f"{value}{suffix}"


def as_table(lines: list[Line], *, year: int, month: int) -> str:
    """The report as aligned text for a terminal or an e-mail."""
    kinds, priorities = dict(Kind.choices), dict(Priority.choices)
    header = [
        _("Kind"), _("Priority"), _("Tickets"), _("Responded in time"), _("Breached"), _("Share met"),
        _("Median (working h)"), _("90th percentile (working h)"),
    ]  # fmt: skip
    body = [
        [
            str(kinds.get(line.kind, _("All kinds"))), str(priorities.get(line.priority, _("All priorities"))),
            str(line.tickets), str(line.in_time), str(line.breached), _text(line.share_met, " %"),
            _text(line.median_hours), _text(line.p90_hours),
        ]
        for line in lines
    ]  # fmt: skip
    widths = [max(len(row[column]) for row in [header, *body]) for column in range(len(header))]
    title = _("Response times of the tickets logged in %(month)s (%(zone)s), in working hours (art. 7.6)") % {
        "month": f"{year:04d}-{month:02d}",
        "zone": sla.Calendar().zone.key,
    }
    out = [title, ""]
    for row in [header, *body]:
        cells = [
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out) + "\n"


def as_csv(lines: list[Line]) -> str:
    """The report as CSV; the header and the kind and priority columns are stable codes, not translated text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["kind", "priority", "tickets", "responded_in_time", "breached", "share_met_percent",
         "median_response_working_hours", "p90_response_working_hours"]
    )  # fmt: skip
    for line in lines:
        writer.writerow(
            [line.kind, line.priority, line.tickets, line.in_time, line.breached,
             _text(line.share_met, missing=""), _text(line.median_hours, missing=""),
             _text(line.p90_hours, missing="")]
        )  # fmt: skip
    return buffer.getvalue()
