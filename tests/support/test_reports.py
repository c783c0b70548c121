"""The monthly response-time report (art. 7.6): per kind and priority, in working hours."""

import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command

from support import reports, tickets
from support.models import InterventionType, Priority

BRUSSELS = ZoneInfo("Europe/Brussels")
REPORT_NOW = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=BRUSSELS)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=BRUSSELS)


@pytest.fixture
def november(owner, customer, staff_user):
    """A small known month. November 2026: the 1st (Sunday) and the 11th (Wednesday) are public holidays."""
    reasons = {code: InterventionType.objects.get(code=code) for code in
               ("hosting-site-down", "hosting-information", "hosting-second-ftp", "hosting-coding")}  # fmt: skip

    def ticket(code, priority, logged_at, reply_at=None, closed_at=None):
        opened = tickets.open_ticket(
            customer=customer, opened_by=owner, reason=reasons[code], priority=priority, subject=code,
            description="-", now=logged_at,
        )  # fmt: skip
        if reply_at:
            tickets.add_staff_reply(ticket=opened, author=staff_user, body="Answer", now=reply_at)
        if closed_at:
            tickets.close(ticket=opened, by=owner, now=closed_at)

    express, standard = Priority.EXPRESS, Priority.STANDARD
    # Incident, Express (4 working hours): answered after 1.5 h, 3 h and 6 h (late); one unanswered and long
    # past its deadline (breached); one closed by the customer 30 minutes in, unanswered (no outcome).
    ticket("hosting-site-down", express, at(11, 2, 9), reply_at=at(11, 2, 10, 30))
    ticket("hosting-site-down", express, at(11, 2, 9), reply_at=at(11, 2, 12))
    ticket("hosting-site-down", express, at(11, 3, 9), reply_at=at(11, 3, 15))
    ticket("hosting-site-down", express, at(11, 4, 9))
    ticket("hosting-site-down", express, at(11, 5, 9), closed_at=at(11, 5, 9, 30))
    # Incident, Standard (10 h): Friday 17:00 → Monday 10:00 is 3 h; Tuesday 16:00 → Thursday 09:00 is 3 h,
    # the Wednesday (11 November) being a holiday.
    ticket("hosting-site-down", standard, at(11, 6, 17), reply_at=at(11, 9, 10))
    ticket("hosting-site-down", standard, at(11, 10, 16), reply_at=at(11, 12, 9))
    # Change, Express (10 h): logged in the night of Sunday 1 November (23:30 UTC on 31 October, November in
    # Brussels); the clock starts Monday 08:00; answered 17:00 is 9 h.
    ticket("hosting-second-ftp", express, datetime.datetime(2026, 10, 31, 23, 30, tzinfo=datetime.UTC),
           reply_at=at(11, 2, 17))  # fmt: skip
    # Information, Standard (20 h): logged Monday 30 November 17:00, due Wednesday: still pending.
    ticket("hosting-information", standard, at(11, 30, 17))
    # Not in the report: logged on 1 December in Brussels (still 30 November in UTC), and without response time.
    ticket("hosting-second-ftp", express, datetime.datetime(2026, 11, 30, 23, 30, tzinfo=datetime.UTC))
    ticket("hosting-coding", express, at(11, 16, 9))


def line(lines, kind, priority) -> reports.Line:
    return next(line for line in lines if (line.kind, line.priority) == (kind, priority))


@pytest.mark.django_db
def test_art_7_6_the_report_counts_tickets_in_time_and_breached_per_kind_and_priority(november):
    lines = reports.sla_report(year=2026, month=11, now=REPORT_NOW)
    assert [(line.kind, line.priority) for line in lines] == [
        ("incident", "standard"), ("incident", "express"), ("change", "standard"), ("change", "express"),
        ("information", "standard"), ("information", "express"), ("all", "all"),
    ]  # fmt: skip
    incident_express = line(lines, "incident", "express")
    assert (incident_express.tickets, incident_express.in_time, incident_express.breached) == (5, 2, 2)
    assert incident_express.share_met == Decimal("50.0")
    assert (incident_express.median_hours, incident_express.p90_hours) == (Decimal("3.00"), Decimal("5.40"))
    incident_standard = line(lines, "incident", "standard")
    assert (incident_standard.tickets, incident_standard.in_time, incident_standard.breached) == (2, 2, 0)
    assert (incident_standard.share_met, incident_standard.median_hours) == (Decimal("100.0"), Decimal("3.00"))
    change_express = line(lines, "change", "express")
    assert (change_express.tickets, change_express.in_time, change_express.median_hours) == (1, 1, Decimal("9.00"))
    pending = line(lines, "information", "standard")
    assert (pending.tickets, pending.in_time, pending.breached, pending.share_met) == (1, 0, 0, None)
    assert pending.median_hours is None and pending.p90_hours is None
    total = line(lines, "all", "all")
    assert (total.tickets, total.in_time, total.breached, total.share_met) == (9, 5, 2, Decimal("71.4"))
    # Answered in 1.5, 3, 3, 3, 6 and 9 working hours.
    assert (total.median_hours, total.p90_hours) == (Decimal("3.00"), Decimal("7.50"))


@pytest.mark.django_db
def test_a_ticket_is_breached_only_once_working_time_has_passed_since_its_deadline(owner, customer):
    reason = InterventionType.objects.get(code="hosting-site-down")
    # Due Monday 30 November at 18:00: not breached that evening, breached from the next opening.
    tickets.open_ticket(customer=customer, opened_by=owner, reason=reason, priority=Priority.EXPRESS, subject="s",
                        description="d", now=at(11, 30, 14))  # fmt: skip
    assert reports.sla_report(year=2026, month=11, now=at(11, 30, 19))[-1].breached == 0
    assert reports.sla_report(year=2026, month=11, now=at(12, 1, 8, 1))[-1].breached == 1


def test_percentiles_and_shares_are_rounded_half_up():
    assert reports.percentile_hours([datetime.timedelta(hours=1, seconds=18)], Decimal("0.5")) == Decimal("1.01")
    assert reports.Line("incident", "standard", 16, 1, 15, ()).share_met == Decimal("6.3")  # 6.25 %
    assert reports.percentile_hours([], Decimal("0.5")) is None


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "November", "2026-11-01", ""])
def test_a_bad_month_is_refused_with_a_clear_message(month):
    with pytest.raises(CommandError, match="--month must be a year and a month such as 2026-11"):
        call_command("sla_report", "--month", month, stdout=io.StringIO())


@pytest.mark.django_db
def test_the_command_prints_the_report_as_a_table(november):
    out = io.StringIO()
    with time_machine.travel(REPORT_NOW, tick=False):
        call_command("sla_report", "--month", "2026-11", stdout=out)
    text = out.getvalue().splitlines()
    assert text[0] == "Response times of the tickets logged in 2026-11 (Europe/Brussels), in working hours (art. 7.6)"
    assert text[2].split() == [
        "Kind", "Priority", "Tickets", "Responded", "in", "time", "Breached", "Share", "met", "Median", "(working",
        "h)", "90th", "percentile", "(working", "h)",
    ]  # fmt: skip
    assert text[4].split() == ["Incident", "Express", "5", "2", "2", "50.0", "%", "3.00", "5.40"]
    assert text[7].split() == ["Information", "request", "Standard", "1", "0", "0", "—", "—", "—"]
    assert text[-1].split() == ["All", "kinds", "All", "priorities", "9", "5", "2", "71.4", "%", "3.00", "7.50"]


@pytest.mark.django_db
def test_the_command_writes_csv_with_a_header_row(november):
    out = io.StringIO()
    with time_machine.travel(REPORT_NOW, tick=False):
        call_command("sla_report", "--month", "2026-11", "--csv", stdout=out)
    assert out.getvalue() == (
        "kind,priority,tickets,responded_in_time,breached,share_met_percent,median_response_working_hours,"
        "p90_response_working_hours\n"
        "incident,standard,2,2,0,100.0,3.00,3.00\n"
        "incident,express,5,2,2,50.0,3.00,5.40\n"
        "change,standard,0,0,0,,,\n"
        "change,express,1,1,0,100.0,9.00,9.00\n"
        "information,standard,1,0,0,,,\n"
        "information,express,0,0,0,,,\n"
        "all,all,9,5,2,71.4,3.00,7.50\n"
    )
