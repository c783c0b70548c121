"""The ticket rules of art. 7.2 and 7.6, through support.tickets."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from support import tickets
from support.models import InterventionType, Status, TicketEvent

BXL = ZoneInfo("Europe/Brussels")
MONDAY_9 = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=BXL)


def reason(code: str) -> InterventionType:
    return InterventionType.objects.get(code=code)


@pytest.fixture
def incident(owner, customer):
    return tickets.open_ticket(
        customer=customer, opened_by=owner, reason=reason("hosting-site-down"), priority="standard",
        subject="Down", description="d", now=MONDAY_9,
    )  # fmt: skip


@pytest.mark.django_db
def test_art_7_6_a_standard_incident_is_due_one_working_day_later(incident):
    assert incident.response_deadline == datetime.datetime(2026, 11, 24, 9, 0, tzinfo=BXL)


@pytest.mark.django_db
def test_art_7_2_a_priority_change_recomputes_the_deadline_from_the_logging_time(incident, staff_user):
    later = MONDAY_9 + datetime.timedelta(hours=6)
    tickets.change_priority(ticket=incident, priority="express", by=staff_user, now=later)
    incident.refresh_from_db()
    assert incident.response_deadline == datetime.datetime(2026, 11, 23, 13, 0, tzinfo=BXL)
    event = incident.events.get(field=TicketEvent.Field.PRIORITY)
    assert (event.old_value, event.new_value, event.actor) == ("Standard", "Express", staff_user)


@pytest.mark.django_db
def test_art_7_2_a_reason_change_changes_the_kind_and_the_deadline(incident, staff_user):
    tickets.change_reason(ticket=incident, reason=reason("hosting-information"), by=staff_user)
    incident.refresh_from_db()
    assert incident.kind == "information"
    assert incident.response_deadline == datetime.datetime(2026, 11, 25, 9, 0, tzinfo=BXL)
    assert incident.events.filter(field=TicketEvent.Field.REASON).exists()


@pytest.mark.django_db
def test_annex_1_a_reason_without_response_time_removes_the_deadline(incident, staff_user):
    tickets.change_reason(ticket=incident, reason=reason("hosting-hacked"), by=staff_user)
    incident.refresh_from_db()
    assert incident.response_deadline is None
    assert incident.response_state() == "none"


@pytest.mark.django_db
def test_the_first_public_staff_reply_stamps_the_response_once(incident, staff_user):
    first = MONDAY_9 + datetime.timedelta(hours=2)
    tickets.add_staff_reply(ticket=incident, author=staff_user, body="note", internal=True, now=first)
    incident.refresh_from_db()
    assert incident.first_response_at is None
    tickets.add_staff_reply(ticket=incident, author=staff_user, body="On it", now=first)
    tickets.add_staff_reply(ticket=incident, author=staff_user, body="Fixed", now=first + datetime.timedelta(hours=1))
    incident.refresh_from_db()
    assert incident.first_response_at == first
    assert incident.responded_in_time is True
    assert incident.status == Status.IN_PROGRESS
    assert incident.events.filter(field=TicketEvent.Field.FIRST_RESPONSE).count() == 1


@pytest.mark.django_db
def test_art_7_6_a_reply_after_the_deadline_with_working_time_passed_is_late(incident, staff_user):
    tickets.add_staff_reply(
        ticket=incident, author=staff_user, body="Sorry", now=MONDAY_9 + datetime.timedelta(days=1, minutes=1)
    )
    incident.refresh_from_db()
    assert incident.responded_in_time is False
    assert incident.response_state() == "late"


@pytest.mark.django_db
def test_art_7_6_a_reply_in_the_evening_to_a_ticket_due_at_closing_time_is_in_time(owner, customer, staff_user):
    ticket = tickets.open_ticket(
        customer=customer, opened_by=owner, reason=reason("hosting-site-down"), priority="express",
        subject="Down", description="d", now=datetime.datetime(2026, 11, 23, 14, 0, tzinfo=BXL),
    )  # fmt: skip
    assert ticket.response_deadline == datetime.datetime(2026, 11, 23, 18, 0, tzinfo=BXL)
    tickets.add_staff_reply(
        ticket=ticket, author=staff_user, body="Hi", now=datetime.datetime(2026, 11, 23, 19, 0, tzinfo=BXL)
    )
    ticket.refresh_from_db()
    assert ticket.responded_in_time is True


@pytest.mark.django_db
def test_a_ticket_is_overdue_only_once_working_time_has_passed_since_its_deadline(owner, customer):
    ticket = tickets.open_ticket(
        customer=customer, opened_by=owner, reason=reason("hosting-site-down"), priority="express",
        subject="Down", description="d", now=datetime.datetime(2026, 11, 27, 14, 0, tzinfo=BXL),  # Friday
    )  # fmt: skip
    assert ticket.response_state(datetime.datetime(2026, 11, 28, 12, 0, tzinfo=BXL)) == "due"  # Saturday
    assert ticket.response_state(datetime.datetime(2026, 11, 30, 8, 0, tzinfo=BXL)) == "due"
    assert ticket.response_state(datetime.datetime(2026, 11, 30, 8, 1, tzinfo=BXL)) == "overdue"


@pytest.mark.django_db
def test_a_customer_cannot_add_a_remark_to_a_closed_ticket(incident, owner):
    tickets.close(ticket=incident, by=owner)
    with pytest.raises(ValidationError):
        tickets.add_remark(ticket=incident, author=owner, body="hello?")


@pytest.mark.django_db
def test_a_customer_remark_puts_a_ticket_waiting_on_them_back_in_progress(incident, owner, staff_user):
    tickets.change_status(ticket=incident, status=Status.WAITING_ON_CUSTOMER, by=staff_user)
    tickets.add_remark(ticket=incident, author=owner, body="Here is the log")
    incident.refresh_from_db()
    assert incident.status == Status.IN_PROGRESS


@pytest.mark.django_db
def test_only_staff_can_be_assigned(incident, owner, staff_user):
    with pytest.raises(ValidationError):
        tickets.assign(ticket=incident, assignee=owner, by=staff_user)
    tickets.assign(ticket=incident, assignee=staff_user, by=staff_user)
    incident.refresh_from_db()
    assert incident.assignee == staff_user
