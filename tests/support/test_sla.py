"""The support desk's working calendar and the response times of art. 7.6.

Working hours ("Heures de travail", art. 1): 08:00-18:00 Belgian civil time on working days
(Monday to Friday, Belgian public holidays excluded). 1 working day = 10 working hours.
Every datetime here is explicit and timezone-aware; nothing reads the clock.
"""

import datetime
from zoneinfo import ZoneInfo

import pytest

from support.sla import (
    add_working_time,
    is_in_time,
    last_working_instant,
    response_deadline,
    target,
    working_time_between,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
UTC = datetime.UTC
H = datetime.timedelta(hours=1)
SECOND = datetime.timedelta(seconds=1)
ZERO = datetime.timedelta(0)

KINDS = ("incident", "information", "change")
PRIORITIES = ("standard", "express")
ALL_TARGETS = [(kind, priority) for kind in KINDS for priority in PRIORITIES]


def bxl(year, month, day, hour=0, minute=0, second=0):
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=BRUSSELS)


def utc(year, month, day, hour=0, minute=0, second=0):
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def wall_clock(instant):
    """The Brussels wall-clock reading of an instant, as a naive datetime."""
    return instant.astimezone(BRUSSELS).replace(tzinfo=None)


def every(start, end, step):
    instants = []
    instant = start
    while instant < end:
        instants.append(instant)
        instant += step
    return instants


# Two weeks and a half in UTC steps of 37 minutes: two weekends, the spring DST change
# (Sunday 29 March 2026) and Easter Monday (6 April 2026).
SAMPLE = every(utc(2026, 3, 25, 0, 3), utc(2026, 4, 10), datetime.timedelta(minutes=37))


# --- art. 7.6: the targets --------------------------------------------------------------------


def test_art_7_6_standard_incident_has_one_working_day_of_ten_hours():
    assert target("incident", "standard") == 10 * H


def test_art_7_6_express_incident_has_four_working_hours():
    assert target("incident", "express") == 4 * H


@pytest.mark.parametrize("kind", ["information", "change"])
def test_art_7_6_standard_information_and_change_requests_have_two_working_days(kind):
    assert target(kind, "standard") == 20 * H


@pytest.mark.parametrize("kind", ["information", "change"])
def test_art_7_6_express_information_and_change_requests_have_one_working_day(kind):
    assert target(kind, "express") == 10 * H


@pytest.mark.parametrize(
    ("kind", "priority"),
    [("incident", "urgent"), ("question", "standard"), ("", ""), ("Incident", "Standard")],
)
def test_art_7_6_an_unknown_kind_or_priority_has_no_target_and_raises_value_error(kind, priority):
    with pytest.raises(ValueError, match="No response target"):
        target(kind, priority)
    with pytest.raises(ValueError, match="No response target"):
        response_deadline(bxl(2026, 3, 2, 9), kind, priority)


@pytest.mark.parametrize(
    ("kind", "priority", "due"),
    [
        ("incident", "standard", bxl(2026, 3, 2, 18)),
        ("incident", "express", bxl(2026, 3, 2, 12)),
        ("information", "standard", bxl(2026, 3, 3, 18)),
        ("information", "express", bxl(2026, 3, 2, 18)),
        ("change", "standard", bxl(2026, 3, 3, 18)),
        ("change", "express", bxl(2026, 3, 2, 18)),
    ],
)
def test_art_7_6_each_target_from_a_monday_opening_gives_its_deadline(kind, priority, due):
    assert response_deadline(bxl(2026, 3, 2, 8), kind, priority) == due


# --- art. 1 "Heures de travail": when the clock starts -----------------------------------------


def test_art_1_ticket_logged_before_opening_starts_its_clock_at_eight():
    assert wall_clock(response_deadline(bxl(2026, 3, 3, 7, 59), "incident", "express")) == datetime.datetime(
        2026, 3, 3, 12
    )


def test_art_1_ticket_logged_exactly_at_opening_starts_its_clock_at_once():
    assert response_deadline(bxl(2026, 3, 3, 8), "incident", "express") == bxl(2026, 3, 3, 12)


def test_art_1_ticket_logged_one_second_before_closing_counts_that_second():
    assert response_deadline(bxl(2026, 3, 3, 17, 59, 59), "incident", "express") == bxl(2026, 3, 4, 11, 59, 59)


def test_art_1_ticket_logged_exactly_at_closing_starts_its_clock_next_morning():
    assert response_deadline(bxl(2026, 3, 3, 18), "incident", "express") == bxl(2026, 3, 4, 12)


def test_art_1_ticket_logged_after_hours_starts_its_clock_next_morning():
    assert response_deadline(bxl(2026, 3, 3, 19), "incident", "express") == bxl(2026, 3, 4, 12)
    assert response_deadline(bxl(2026, 3, 3, 23, 59, 59), "incident", "standard") == bxl(2026, 3, 4, 18)


@pytest.mark.parametrize(
    "logged_at",
    [bxl(2026, 3, 6, 18), bxl(2026, 3, 6, 21), bxl(2026, 3, 7, 0), bxl(2026, 3, 7, 12), bxl(2026, 3, 8, 23, 59, 59)],
)
def test_art_1_ticket_logged_on_friday_evening_or_the_weekend_starts_its_clock_on_monday_opening(logged_at):
    assert response_deadline(logged_at, "incident", "express") == bxl(2026, 3, 9, 12)
    assert response_deadline(logged_at, "incident", "standard") == bxl(2026, 3, 9, 18)


# --- art. 7.6: deadlines at the end of a day -----------------------------------------------------


def test_art_7_6_standard_incident_logged_at_opening_is_due_at_closing_that_day_not_next_morning():
    due = response_deadline(bxl(2026, 3, 4, 8), "incident", "standard")
    assert wall_clock(due) == datetime.datetime(2026, 3, 4, 18)


def test_art_7_6_express_incident_logged_at_two_pm_is_due_at_six_pm_that_day():
    due = response_deadline(bxl(2026, 3, 4, 14), "incident", "express")
    assert wall_clock(due) == datetime.datetime(2026, 3, 4, 18)


def test_art_7_6_express_incident_logged_friday_at_two_pm_is_due_friday_at_six_pm_not_monday():
    assert response_deadline(bxl(2026, 3, 6, 14), "incident", "express") == bxl(2026, 3, 6, 18)


def test_art_7_6_two_day_target_logged_on_a_weekend_is_due_at_tuesday_closing():
    assert response_deadline(bxl(2026, 3, 7, 10), "information", "standard") == bxl(2026, 3, 10, 18)


# --- art. 7.6: deadlines over nights, weekends, several days -------------------------------------


def test_art_7_6_express_incident_runs_over_the_night():
    assert response_deadline(bxl(2026, 3, 3, 16), "incident", "express") == bxl(2026, 3, 4, 10)


def test_art_7_6_standard_incident_logged_friday_afternoon_runs_over_the_weekend():
    assert response_deadline(bxl(2026, 3, 6, 15), "incident", "standard") == bxl(2026, 3, 9, 15)
    assert response_deadline(bxl(2026, 3, 6, 16, 30), "incident", "express") == bxl(2026, 3, 9, 10, 30)


def test_art_7_6_two_day_targets_run_over_several_days_and_a_weekend():
    # Thursday 8 h + Friday 10 h + Monday 2 h.
    assert response_deadline(bxl(2026, 3, 5, 10), "change", "standard") == bxl(2026, 3, 9, 10)
    # Wednesday 3 h + Thursday 10 h + Friday 7 h.
    assert response_deadline(bxl(2026, 3, 4, 15), "information", "standard") == bxl(2026, 3, 6, 15)


def test_add_working_time_can_span_many_weeks():
    # 5 weeks of 50 working hours from a Monday opening, no holiday from 2 March to 3 April 2026.
    assert add_working_time(bxl(2026, 3, 2, 8), 250 * H) == bxl(2026, 4, 3, 18)


# --- Belgian public holidays --------------------------------------------------------------------

WEEKDAY_HOLIDAYS = [
    # (holiday, the working day before, the working day after)
    (datetime.date(2026, 1, 1), datetime.date(2025, 12, 31), datetime.date(2026, 1, 2)),  # New Year, Thu
    (datetime.date(2026, 4, 6), datetime.date(2026, 4, 3), datetime.date(2026, 4, 7)),  # Easter Monday
    (datetime.date(2026, 5, 1), datetime.date(2026, 4, 30), datetime.date(2026, 5, 4)),  # Labour Day, Fri
    (datetime.date(2026, 5, 14), datetime.date(2026, 5, 13), datetime.date(2026, 5, 15)),  # Ascension
    (datetime.date(2026, 5, 25), datetime.date(2026, 5, 22), datetime.date(2026, 5, 26)),  # Whit Monday
    (datetime.date(2026, 7, 21), datetime.date(2026, 7, 20), datetime.date(2026, 7, 22)),  # National Day
    (datetime.date(2025, 8, 15), datetime.date(2025, 8, 14), datetime.date(2025, 8, 18)),  # Assumption, Fri
    (datetime.date(2028, 8, 15), datetime.date(2028, 8, 14), datetime.date(2028, 8, 16)),  # Assumption, Tue
    (datetime.date(2027, 11, 1), datetime.date(2027, 10, 29), datetime.date(2027, 11, 2)),  # All Saints, Mon
    (datetime.date(2026, 11, 11), datetime.date(2026, 11, 10), datetime.date(2026, 11, 12)),  # Armistice
    (datetime.date(2026, 12, 25), datetime.date(2026, 12, 24), datetime.date(2026, 12, 28)),  # Christmas, Fri
    (datetime.date(2027, 1, 1), datetime.date(2026, 12, 31), datetime.date(2027, 1, 4)),  # New Year, Fri
    (datetime.date(2027, 3, 29), datetime.date(2027, 3, 26), datetime.date(2027, 3, 30)),  # Easter Monday
    (datetime.date(2027, 5, 6), datetime.date(2027, 5, 5), datetime.date(2027, 5, 7)),  # Ascension
    (datetime.date(2027, 5, 17), datetime.date(2027, 5, 14), datetime.date(2027, 5, 18)),  # Whit Monday
    (datetime.date(2027, 7, 21), datetime.date(2027, 7, 20), datetime.date(2027, 7, 22)),  # National Day
    (datetime.date(2027, 11, 11), datetime.date(2027, 11, 10), datetime.date(2027, 11, 12)),  # Armistice
]
HOLIDAY_IDS = [holiday.isoformat() for holiday, _, _ in WEEKDAY_HOLIDAYS]


def at(day, hour=0, minute=0):
    return bxl(day.year, day.month, day.day, hour, minute)


@pytest.mark.parametrize(("holiday", "before", "after"), WEEKDAY_HOLIDAYS, ids=HOLIDAY_IDS)
def test_art_1_belgian_public_holiday_on_a_weekday_has_no_working_time(holiday, before, after):
    assert holiday.weekday() < 5
    assert working_time_between(at(holiday), at(holiday + datetime.timedelta(days=1))) == ZERO
    assert working_time_between(at(before), at(after + datetime.timedelta(days=1))) == 20 * H


@pytest.mark.parametrize(("holiday", "before", "after"), WEEKDAY_HOLIDAYS, ids=HOLIDAY_IDS)
def test_art_7_6_deadline_skips_a_belgian_public_holiday(holiday, before, after):
    assert response_deadline(at(before, 16), "incident", "express") == at(after, 10)
    assert response_deadline(at(before, 14), "incident", "standard") == at(after, 14)
    assert response_deadline(at(before, 8), "information", "standard") == at(after, 18)


@pytest.mark.parametrize(("holiday", "before", "after"), WEEKDAY_HOLIDAYS, ids=HOLIDAY_IDS)
def test_art_1_ticket_logged_on_a_public_holiday_starts_its_clock_on_the_next_working_day(holiday, before, after):
    assert response_deadline(at(holiday, 10), "incident", "express") == at(after, 12)


@pytest.mark.parametrize(
    ("friday", "monday"),
    [
        (datetime.date(2026, 8, 14), datetime.date(2026, 8, 17)),  # 15 August 2026 is a Saturday
        (datetime.date(2027, 8, 13), datetime.date(2027, 8, 16)),  # 15 August 2027 is a Sunday
        (datetime.date(2026, 10, 30), datetime.date(2026, 11, 2)),  # 1 November 2026 is a Sunday
        (datetime.date(2027, 4, 30), datetime.date(2027, 5, 3)),  # 1 May 2027 is a Saturday
        (datetime.date(2027, 12, 24), datetime.date(2027, 12, 27)),  # 25 December 2027 is a Saturday
    ],
)
def test_art_1_holiday_on_a_weekend_is_not_moved_to_the_monday(friday, monday):
    assert response_deadline(at(friday, 14), "incident", "standard") == at(monday, 14)


def test_art_7_6_deadline_over_new_year_skips_the_holiday_across_the_year_boundary():
    # Thursday 31 Dec 2026: 4 h, Friday 1 Jan 2027 holiday, Monday 4 Jan 10 h, Tuesday 6 h.
    assert response_deadline(bxl(2026, 12, 31, 14), "information", "standard") == bxl(2027, 1, 5, 14)


def test_art_7_6_deadline_over_easter_2027_skips_easter_monday_and_the_dst_change():
    # Friday 26 March 2027 16:00 CET: 2 h, weekend (DST on Sunday 28), Easter Monday, Tuesday 8 h.
    due = response_deadline(bxl(2027, 3, 26, 16), "incident", "standard")
    assert wall_clock(due) == datetime.datetime(2027, 3, 30, 16)
    assert due == utc(2027, 3, 30, 14)


# --- DST ----------------------------------------------------------------------------------------


def test_dst_spring_forward_deadline_is_at_the_right_wall_clock_time_and_utc_instant():
    logged_at = bxl(2026, 3, 27, 15)  # Friday, CET
    assert logged_at == utc(2026, 3, 27, 14)
    due = response_deadline(logged_at, "incident", "standard")  # Friday 3 h, Monday 7 h
    assert wall_clock(due) == datetime.datetime(2026, 3, 30, 15)
    assert due == utc(2026, 3, 30, 13)
    assert due.utcoffset() == 2 * H


def test_dst_fall_back_deadline_is_at_the_right_wall_clock_time_and_utc_instant():
    logged_at = bxl(2026, 10, 23, 15)  # Friday, CEST
    assert logged_at == utc(2026, 10, 23, 13)
    due = response_deadline(logged_at, "incident", "standard")
    assert wall_clock(due) == datetime.datetime(2026, 10, 26, 15)
    assert due == utc(2026, 10, 26, 14)
    assert due.utcoffset() == 1 * H


def test_dst_opening_is_seven_utc_in_winter_and_six_utc_in_summer():
    # Monday 23 March 2026 (CET) and Monday 30 March 2026 (CEST), just after the change.
    assert response_deadline(utc(2026, 3, 23, 6, 30), "incident", "express") == utc(2026, 3, 23, 11)
    assert response_deadline(utc(2026, 3, 30, 6, 30), "incident", "express") == utc(2026, 3, 30, 10, 30)
    # Monday 19 October (CEST) and Monday 26 October 2026 (CET), just after the change.
    assert response_deadline(utc(2026, 10, 19, 6, 30), "incident", "express") == utc(2026, 10, 19, 10, 30)
    assert response_deadline(utc(2026, 10, 26, 6, 30), "incident", "express") == utc(2026, 10, 26, 11)


@pytest.mark.parametrize(
    ("saturday", "monday_opening_utc"),
    [(bxl(2026, 3, 28, 10), utc(2026, 3, 30, 6)), (bxl(2026, 10, 24, 10), utc(2026, 10, 26, 7))],
)
def test_dst_ticket_logged_on_the_change_weekend_starts_at_monday_eight_local_time(saturday, monday_opening_utc):
    assert response_deadline(saturday, "incident", "express") == monday_opening_utc + 4 * H
    assert wall_clock(response_deadline(saturday, "incident", "express")).time() == datetime.time(12)


def test_dst_working_time_over_the_change_weekend_is_exactly_two_days():
    assert working_time_between(bxl(2026, 3, 27, 8), bxl(2026, 3, 30, 18)) == 20 * H
    assert working_time_between(bxl(2026, 10, 23, 8), bxl(2026, 10, 26, 18)) == 20 * H
    assert working_time_between(bxl(2026, 3, 27, 18), bxl(2026, 3, 30, 8)) == ZERO
    assert working_time_between(bxl(2026, 10, 23, 18), bxl(2026, 10, 26, 8)) == ZERO


# --- time zones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "instant",
    [
        bxl(2026, 1, 5, 7, 59),
        bxl(2026, 1, 5, 8),
        bxl(2026, 1, 9, 17, 59, 59),
        bxl(2026, 3, 27, 15),
        bxl(2026, 7, 21, 10),
        bxl(2026, 10, 23, 18),
        bxl(2026, 10, 25, 2, 30),
    ],
)
def test_utc_and_other_zones_give_the_same_results_as_brussels_time(instant):
    in_utc = instant.astimezone(UTC)
    in_new_york = instant.astimezone(ZoneInfo("America/New_York"))
    later = instant + 30 * H
    for kind, priority in ALL_TARGETS:
        due = response_deadline(instant, kind, priority)
        assert response_deadline(in_utc, kind, priority) == due
        assert response_deadline(in_new_york, kind, priority) == due
    assert working_time_between(in_utc, later.astimezone(UTC)) == working_time_between(instant, later)
    assert working_time_between(in_new_york, later) == working_time_between(instant, later)
    assert last_working_instant(in_utc) == last_working_instant(instant)
    assert add_working_time(in_utc, 3 * H) == add_working_time(instant, 3 * H)


def test_deadlines_are_returned_in_brussels_time():
    due = response_deadline(utc(2026, 3, 2, 9), "incident", "express")
    assert due.tzinfo == BRUSSELS
    assert (due.hour, due.minute) == (14, 0)
    assert last_working_instant(utc(2026, 3, 7, 12)).tzinfo == BRUSSELS


@pytest.mark.parametrize(
    "call",
    [
        lambda naive, aware: response_deadline(naive, "incident", "standard"),
        lambda naive, aware: working_time_between(naive, aware),
        lambda naive, aware: working_time_between(aware, naive),
        lambda naive, aware: is_in_time(naive, aware, "incident", "standard"),
        lambda naive, aware: is_in_time(aware, naive, "incident", "standard"),
        lambda naive, aware: add_working_time(naive, H),
        lambda naive, aware: last_working_instant(naive),
    ],
)
def test_naive_datetimes_raise_value_error(call):
    with pytest.raises(ValueError, match="timezone-aware"):
        call(datetime.datetime(2026, 3, 2, 9), bxl(2026, 3, 3, 9))


# --- working_time_between -----------------------------------------------------------------------


def test_working_time_is_zero_when_end_is_not_after_start():
    assert working_time_between(bxl(2026, 3, 2, 10), bxl(2026, 3, 2, 10)) == ZERO
    assert working_time_between(bxl(2026, 3, 3, 10), bxl(2026, 3, 2, 10)) == ZERO


def test_working_time_is_zero_across_a_whole_weekend():
    assert working_time_between(bxl(2026, 3, 6, 18), bxl(2026, 3, 9, 8)) == ZERO
    assert working_time_between(bxl(2026, 3, 7, 0), bxl(2026, 3, 9, 0)) == ZERO


def test_working_time_skips_a_holiday():
    # Monday 20 July 12:00 to Wednesday 22 July 12:00 2026, over National Day on the Tuesday.
    assert working_time_between(bxl(2026, 7, 20, 12), bxl(2026, 7, 22, 12)) == 10 * H
    # The week of Easter Monday 2026 has four working days.
    assert working_time_between(bxl(2026, 4, 6), bxl(2026, 4, 11)) == 40 * H


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (bxl(2026, 3, 2, 6), bxl(2026, 3, 2, 9, 30), datetime.timedelta(hours=1, minutes=30)),
        (bxl(2026, 3, 2, 16, 15), bxl(2026, 3, 2, 22), datetime.timedelta(hours=1, minutes=45)),
        (bxl(2026, 3, 2, 10), bxl(2026, 3, 2, 10, 0, 1), SECOND),
        (bxl(2026, 3, 2, 17), bxl(2026, 3, 3, 9), 2 * H),
        (bxl(2026, 3, 2, 19), bxl(2026, 3, 3, 7), ZERO),
        (bxl(2026, 3, 6, 17, 30), bxl(2026, 3, 9, 8, 30), 1 * H),
    ],
)
def test_working_time_counts_only_the_overlap_with_working_hours(start, end, expected):
    assert working_time_between(start, end) == expected


def test_a_full_working_day_is_exactly_ten_hours():
    assert working_time_between(bxl(2026, 3, 2, 8), bxl(2026, 3, 2, 18)) == 10 * H
    assert working_time_between(bxl(2026, 3, 2, 0), bxl(2026, 3, 3, 0)) == 10 * H
    assert working_time_between(bxl(2026, 3, 2, 0), bxl(2026, 3, 9, 0)) == 50 * H


# --- is_in_time ---------------------------------------------------------------------------------


def test_art_7_6_reply_at_seven_pm_to_a_ticket_due_at_six_pm_is_in_time():
    logged_at = bxl(2026, 3, 4, 14)
    assert response_deadline(logged_at, "incident", "express") == bxl(2026, 3, 4, 18)
    assert is_in_time(logged_at, bxl(2026, 3, 4, 19), "incident", "express")
    assert is_in_time(logged_at, bxl(2026, 3, 5, 8), "incident", "express")


def test_art_7_6_reply_one_second_into_the_next_working_day_is_late():
    assert not is_in_time(bxl(2026, 3, 4, 14), bxl(2026, 3, 5, 8, 0, 1), "incident", "express")
    # Over a weekend: due Friday 18:00, late from Monday 08:00:01.
    assert is_in_time(bxl(2026, 3, 6, 8), bxl(2026, 3, 9, 8), "incident", "standard")
    assert not is_in_time(bxl(2026, 3, 6, 8), bxl(2026, 3, 9, 8, 0, 1), "incident", "standard")


def test_art_7_6_reply_exactly_at_the_deadline_is_in_time_and_one_second_later_is_late():
    logged_at = bxl(2026, 3, 4, 9, 15)
    due = response_deadline(logged_at, "information", "standard")
    assert due == bxl(2026, 3, 6, 9, 15)
    assert is_in_time(logged_at, due, "information", "standard")
    assert not is_in_time(logged_at, due + SECOND, "information", "standard")


def test_art_7_6_reply_before_logging_or_at_logging_is_in_time():
    assert is_in_time(bxl(2026, 3, 4, 9), bxl(2026, 3, 4, 9), "incident", "express")
    assert is_in_time(bxl(2026, 3, 4, 9), bxl(2026, 3, 4, 8), "incident", "express")


# --- properties over a deterministic sample -----------------------------------------------------


@pytest.mark.parametrize(("kind", "priority"), ALL_TARGETS)
def test_art_7_6_working_time_from_logging_to_deadline_is_the_target_for_every_sampled_instant(kind, priority):
    goal = target(kind, priority)
    for logged_at in SAMPLE:
        due = response_deadline(logged_at, kind, priority)
        assert due > logged_at
        assert working_time_between(logged_at, due) == goal, logged_at
        # The deadline is the first such instant: one second earlier is not enough.
        assert working_time_between(logged_at, due - SECOND) == goal - SECOND, logged_at


@pytest.mark.parametrize(("kind", "priority"), ALL_TARGETS)
def test_art_7_6_reply_one_working_second_after_the_deadline_is_late_for_every_sampled_instant(kind, priority):
    for logged_at in SAMPLE:
        due = response_deadline(logged_at, kind, priority)
        assert is_in_time(logged_at, due, kind, priority), logged_at
        late = add_working_time(due, SECOND)
        if wall_clock(due).time() != datetime.time(18):
            assert late == due + SECOND, logged_at
        assert not is_in_time(logged_at, late, kind, priority), logged_at


def test_adding_working_time_in_two_steps_equals_adding_it_at_once():
    for start in SAMPLE[::5]:
        for first, second in [(1 * H, 3 * H), (7 * H, 13 * H), (10 * H, 10 * H), (SECOND, 4 * H)]:
            assert add_working_time(add_working_time(start, first), second) == add_working_time(
                start, first + second
            ), start


# --- last_working_instant -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "now",
    [bxl(2026, 3, 4, 8, 0, 1), bxl(2026, 3, 4, 12, 34, 56), bxl(2026, 3, 4, 17, 59, 59), bxl(2026, 3, 4, 18)],
)
def test_last_working_instant_during_working_hours_is_now(now):
    assert last_working_instant(now) == now
    assert last_working_instant(now.astimezone(UTC)) == now


def test_last_working_instant_in_the_evening_is_that_days_closing():
    assert last_working_instant(bxl(2026, 3, 4, 23, 30)) == bxl(2026, 3, 4, 18)


@pytest.mark.parametrize("now", [bxl(2026, 3, 7, 0), bxl(2026, 3, 7, 12), bxl(2026, 3, 8, 23, 59)])
def test_last_working_instant_on_a_weekend_is_friday_closing(now):
    assert last_working_instant(now) == bxl(2026, 3, 6, 18)


def test_last_working_instant_on_monday_before_opening_is_the_previous_friday_closing():
    assert last_working_instant(bxl(2026, 3, 9, 7)) == bxl(2026, 3, 6, 18)


def test_last_working_instant_at_the_exact_opening_is_the_previous_closing_as_no_working_time_passed():
    assert last_working_instant(bxl(2026, 3, 9, 8)) == bxl(2026, 3, 6, 18)
    assert last_working_instant(bxl(2026, 3, 4, 8)) == bxl(2026, 3, 3, 18)
    # A ticket due Friday 18:00 is not yet breached at Monday 08:00:00 (a reply then is in time).
    due = response_deadline(bxl(2026, 3, 6, 8), "incident", "standard")
    assert is_in_time(bxl(2026, 3, 6, 8), bxl(2026, 3, 9, 8), "incident", "standard")
    assert not due < last_working_instant(bxl(2026, 3, 9, 8))
    assert due < last_working_instant(bxl(2026, 3, 9, 8, 0, 1))


def test_last_working_instant_after_a_holiday_skips_the_holiday():
    # Tuesday after Easter Monday 2026, before opening: Friday 3 April (Good Friday works in BE).
    assert last_working_instant(bxl(2026, 4, 7, 7, 30)) == bxl(2026, 4, 3, 18)
    # During National Day 2026 (Tuesday): Monday's closing.
    assert last_working_instant(bxl(2026, 7, 21, 12)) == bxl(2026, 7, 20, 18)
    # Monday 4 January 2027 before opening: New Year on Friday, so Thursday 31 December 2026.
    assert last_working_instant(bxl(2027, 1, 4, 6)) == bxl(2026, 12, 31, 18)


def test_last_working_instant_over_the_dst_change_is_friday_closing_in_local_time():
    assert last_working_instant(utc(2026, 3, 30, 5, 59)) == utc(2026, 3, 27, 17)
    assert last_working_instant(utc(2026, 10, 26, 6, 59)) == utc(2026, 10, 23, 16)


def test_working_time_has_passed_since_a_deadline_exactly_when_it_is_before_the_last_working_instant():
    instants = every(utc(2026, 3, 26, 0, 11), utc(2026, 4, 9), datetime.timedelta(hours=3, minutes=17))
    for day in range(26, 40):
        date = datetime.date(2026, 3, 1) + datetime.timedelta(days=day - 1)
        for hour in (8, 18):
            boundary = at(date, hour)
            instants += [boundary - SECOND, boundary, boundary + SECOND]
    deadlines = instants + [response_deadline(logged_at, "incident", "express") for logged_at in instants]
    for now in instants:
        last = last_working_instant(now)
        assert last <= now
        for deadline in deadlines:
            passed = working_time_between(deadline, now) > ZERO
            assert passed == (deadline < last), (deadline, now)


# --- settings -----------------------------------------------------------------------------------


def test_opening_and_closing_time_settings_change_the_working_day(settings):
    settings.SUPPORT_OPENING_TIME = "09:00"
    settings.SUPPORT_CLOSING_TIME = "17:00"
    assert target("incident", "standard") == 8 * H
    assert target("information", "standard") == 16 * H
    assert target("incident", "express") == 4 * H
    assert working_time_between(bxl(2026, 3, 2, 0), bxl(2026, 3, 3, 0)) == 8 * H
    assert response_deadline(bxl(2026, 3, 2, 8, 30), "incident", "standard") == bxl(2026, 3, 2, 17)
    assert response_deadline(bxl(2026, 3, 2, 17), "incident", "express") == bxl(2026, 3, 3, 13)
    assert last_working_instant(bxl(2026, 3, 2, 17, 30)) == bxl(2026, 3, 2, 17)


def test_closing_time_not_after_opening_time_is_refused(settings):
    settings.SUPPORT_OPENING_TIME = "18:00"
    settings.SUPPORT_CLOSING_TIME = "08:00"
    with pytest.raises(ValueError, match="SUPPORT_CLOSING_TIME"):
        response_deadline(bxl(2026, 3, 2, 9), "incident", "standard")


def test_working_weekdays_setting_is_honoured(settings):
    settings.SUPPORT_WORKING_WEEKDAYS = (0, 1, 2, 3, 4, 5)  # Saturday works
    assert response_deadline(bxl(2026, 3, 7, 10), "incident", "express") == bxl(2026, 3, 7, 14)
    assert working_time_between(bxl(2026, 3, 7, 0), bxl(2026, 3, 9, 0)) == 10 * H
    settings.SUPPORT_WORKING_WEEKDAYS = (0, 1, 2, 3)  # Friday does not
    assert response_deadline(bxl(2026, 3, 5, 14), "incident", "standard") == bxl(2026, 3, 9, 14)
    assert last_working_instant(bxl(2026, 3, 6, 12)) == bxl(2026, 3, 5, 18)


def test_holiday_country_setting_is_honoured(settings):
    settings.SUPPORT_HOLIDAY_COUNTRY = "NL"
    # 21 July 2026 (Tuesday) is a working day in the Netherlands.
    assert working_time_between(bxl(2026, 7, 21), bxl(2026, 7, 22)) == 10 * H
    assert response_deadline(bxl(2026, 7, 20, 14), "incident", "express") == bxl(2026, 7, 20, 18)
    assert response_deadline(bxl(2026, 7, 20, 16), "incident", "express") == bxl(2026, 7, 21, 10)
    # King's Day, Monday 27 April 2026, is not; Good Friday 3 April 2026 neither.
    assert working_time_between(bxl(2026, 4, 27), bxl(2026, 4, 28)) == ZERO
    assert working_time_between(bxl(2026, 4, 3), bxl(2026, 4, 4)) == ZERO


def test_response_targets_setting_is_honoured(settings):
    settings.SUPPORT_RESPONSE_TARGETS = {
        ("incident", "express"): (2, "hour"),
        ("incident", "standard"): (3, "day"),
        ("change", "express"): (1, "week"),
    }
    assert target("incident", "express") == 2 * H
    assert target("incident", "standard") == 30 * H
    assert response_deadline(bxl(2026, 3, 2, 17), "incident", "express") == bxl(2026, 3, 3, 9)
    assert response_deadline(bxl(2026, 3, 2, 8), "incident", "standard") == bxl(2026, 3, 4, 18)
    with pytest.raises(ValueError, match="No response target"):
        target("information", "standard")
    with pytest.raises(ValueError, match="Unknown target unit"):
        target("change", "express")


def test_time_zone_setting_moves_the_working_hours(settings):
    settings.SUPPORT_TIME_ZONE = "UTC"
    assert response_deadline(utc(2026, 7, 1, 7), "incident", "express") == utc(2026, 7, 1, 12)
    assert working_time_between(utc(2026, 7, 1), utc(2026, 7, 2)) == 10 * H
