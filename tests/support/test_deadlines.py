"""Staff are warned once when a response deadline is near and once when it has passed (art. 7.6)."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command

from support import deadlines, tasks, tickets
from support.models import DeadlineWarning, InterventionType, Priority

BRUSSELS = ZoneInfo("Europe/Brussels")


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, minute, second, tzinfo=BRUSSELS)


@pytest.fixture
def site_down():
    return InterventionType.objects.get(code="hosting-site-down")


@pytest.fixture
def express(owner, customer, site_down, staff_user):
    """An Express incident logged Friday 27 November 2026 at 08:00: due at 12:00."""
    ticket = tickets.open_ticket(
        customer=customer, opened_by=owner, reason=site_down, priority=Priority.EXPRESS, subject="Site down",
        description="Down.", now=at(27, 8),
    )  # fmt: skip
    assert ticket.response_deadline == at(27, 12)
    return ticket


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run the job at ``now`` and return (counts, subjects of the e-mails it sent)."""

    def run(now: datetime.datetime, **options):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            counts = deadlines.warn_response_deadlines(now=now, **options)
        return counts, [message.subject for message in mail.outbox]

    return run


@pytest.mark.django_db
def test_art_7_6_staff_are_warned_once_when_less_than_one_working_hour_is_left(express, run):
    assert run(at(27, 10, 59)) == ({"at_risk": 0, "breached": 0, "already_sent": 0}, [])
    counts, subjects = run(at(27, 11))
    assert counts["at_risk"] == 1
    assert subjects == [f"[{express.number}] Less than one working hour left to respond: Site down"]
    assert run(at(27, 11, 30)) == ({"at_risk": 0, "breached": 0, "already_sent": 0}, [])
    assert run(at(27, 12)) == ({"at_risk": 0, "breached": 0, "already_sent": 0}, [])  # due now, not yet passed


@pytest.mark.django_db
def test_art_7_6_staff_are_warned_once_when_the_deadline_has_passed(express, run):
    run(at(27, 11))
    counts, subjects = run(at(27, 12, 5))
    assert counts == {"at_risk": 0, "breached": 1, "already_sent": 0}
    assert subjects == [f"[{express.number}] Response deadline passed: Site down"]
    assert run(at(27, 12, 10))[1] == []
    assert run(at(30, 9))[1] == []
    assert set(DeadlineWarning.objects.values_list("level", "deadline")) == {
        ("at_risk", at(27, 12)),
        ("breached", at(27, 12)),
    }


@pytest.mark.django_db
def test_running_twice_at_the_same_instant_sends_each_warning_once(express, run):
    assert run(at(27, 11, 30))[0]["at_risk"] == 1
    assert run(at(27, 11, 30)) == ({"at_risk": 0, "breached": 0, "already_sent": 0}, [])
    assert DeadlineWarning.objects.count() == 1


@pytest.mark.django_db
def test_a_warning_another_worker_recorded_first_is_not_sent_again(express, run):
    DeadlineWarning.objects.create(ticket=express, level="at_risk", deadline=express.response_deadline)
    assert run(at(27, 11, 30)) == ({"at_risk": 0, "breached": 0, "already_sent": 0}, [])


@pytest.mark.django_db
def test_when_two_workers_race_the_unique_constraint_lets_only_one_send(express, run, monkeypatch):
    # This worker listed the ticket before the other one recorded its warning: the claim must fail.
    stale = deadlines.pending_warnings(at(27, 11, 30))
    DeadlineWarning.objects.create(ticket=express, level="at_risk", deadline=express.response_deadline)
    monkeypatch.setattr(deadlines, "pending_warnings", lambda now: stale)
    assert run(at(27, 11, 30)) == ({"at_risk": 0, "breached": 0, "already_sent": 1}, [])
    assert DeadlineWarning.objects.count() == 1


@pytest.mark.django_db
def test_a_deadline_that_ends_at_six_is_breached_only_once_working_time_has_passed(owner, customer, site_down, run):
    tickets.open_ticket(
        customer=customer, opened_by=owner, reason=site_down, priority=Priority.EXPRESS, subject="Afternoon",
        description="Down.", now=at(27, 14),
    )  # fmt: skip
    assert run(at(27, 19))[0] == {"at_risk": 1, "breached": 0, "already_sent": 0}  # due 18:00, no working time since
    assert run(at(30, 8))[0]["breached"] == 0  # Monday at the very opening
    assert run(at(30, 8, 0, 1))[0]["breached"] == 1


@pytest.mark.django_db
def test_a_ticket_found_already_breached_gets_only_the_breached_warning(express, run):
    assert run(at(30, 9))[0] == {"at_risk": 0, "breached": 1, "already_sent": 0}


@pytest.mark.django_db
def test_answered_closed_and_untimed_tickets_get_no_warning(express, owner, customer, staff_user, run):
    tickets.add_staff_reply(ticket=express, author=staff_user, body="On it", now=at(27, 9))
    closed = tickets.open_ticket(
        customer=customer, opened_by=owner, reason=express.reason, priority=Priority.EXPRESS, subject="Closed",
        description="Never mind.", now=at(27, 8),
    )  # fmt: skip
    tickets.close(ticket=closed, by=owner, now=at(27, 8, 30))
    tickets.open_ticket(
        customer=customer, opened_by=owner, reason=InterventionType.objects.get(code="hosting-coding"),
        priority=Priority.EXPRESS, subject="No response time", description="?", now=at(20, 8),
    )  # fmt: skip
    assert run(at(30, 9)) == ({"at_risk": 0, "breached": 0, "already_sent": 0}, [])


@pytest.mark.django_db
def test_art_7_2_a_priority_change_moves_the_deadline_and_the_new_deadline_is_warned_about(express, staff_user, run):
    run(at(27, 11))  # at risk for 12:00
    tickets.change_priority(ticket=express, priority=Priority.STANDARD, by=staff_user, now=at(27, 11, 15))
    express.refresh_from_db()
    assert express.response_deadline == at(27, 18)  # one working day from the logging time
    assert run(at(27, 11, 30))[1] == []
    counts, subjects = run(at(27, 17, 5))
    assert counts["at_risk"] == 1 and subjects[0].startswith(f"[{express.number}] Less than one working hour")


@pytest.mark.django_db
def test_the_job_warns_the_assignee_or_else_the_support_mailbox(express, staff_user, run, settings):
    settings.SUPPORT_STAFF_EMAILS = ["support@portal.example"]
    run(at(27, 11))
    assert [message.to for message in mail.outbox] == [["support@portal.example"]]
    tickets.assign(ticket=express, assignee=staff_user, by=staff_user)
    run(at(27, 12, 5))
    assert [message.to for message in mail.outbox] == [["staff@portal.example"]]


@pytest.mark.django_db
def test_the_job_uses_one_query_plus_one_claim_per_warning(
    owner, customer, site_down, settings, django_assert_max_num_queries, django_assert_num_queries
):
    settings.SUPPORT_STAFF_EMAILS = ["support@portal.example"]
    for _ in range(30):
        tickets.open_ticket(
            customer=customer, opened_by=owner, reason=site_down, priority=Priority.EXPRESS, subject="Down",
            description="Down.", now=at(27, 8),
        )  # fmt: skip
    with django_assert_max_num_queries(1 + 3 * 30):  # the list, then savepoint + insert + release per claim
        assert deadlines.warn_response_deadlines(now=at(27, 11))["at_risk"] == 30
    with django_assert_num_queries(1):  # nothing left to send: only the list, whatever the number of tickets
        assert deadlines.warn_response_deadlines(now=at(27, 11, 30))["at_risk"] == 0


# The Celery task and the command


def test_the_beat_schedule_runs_the_task():
    assert settings.CELERY_BEAT_SCHEDULE["warn-response-deadlines"]["task"] == tasks.warn_response_deadlines.name


@pytest.mark.django_db
def test_the_task_warns_as_of_now(express, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with time_machine.travel(at(27, 11, 30), tick=False), django_capture_on_commit_callbacks(execute=True):
        result = tasks.warn_response_deadlines.delay().get()
    assert result == {"at_risk": 1, "breached": 0, "already_sent": 0}
    assert len(mail.outbox) == 1


def command(*args) -> str:
    out = io.StringIO()
    call_command("warn_response_deadlines", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_command_dry_run_reports_and_sends_and_records_nothing(express, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        out = command("--dry-run", "--now", "2026-11-27T12:30")
    assert out == ("Dry run: 0 at-risk and 1 breached warning(s) would be sent; nothing was sent or recorded.\n")
    assert mail.outbox == [] and not DeadlineWarning.objects.exists()
    assert f"{express.number}: breached" in command("--dry-run", "--now", "2026-11-27T12:30", "--verbosity", "2")


@pytest.mark.django_db
def test_the_command_sends_and_prints_a_one_line_summary(express, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        out = command("--now", "2026-11-27T10:30:00+00:00")  # 11:30 in Brussels
    assert out == "Sent 1 at-risk and 0 breached warning(s); 0 already sent by another run.\n"
    assert len(mail.outbox) == 1 and DeadlineWarning.objects.get().level == "at_risk"
    with time_machine.travel(at(27, 11, 40), tick=False):
        assert command().startswith("Sent 0 at-risk and 0 breached")


@pytest.mark.django_db
def test_the_command_refuses_a_bad_now():
    with pytest.raises(CommandError, match="--now must be an ISO date-time such as 2026-11-27T16:30"):
        command("--now", "tomorrow")
