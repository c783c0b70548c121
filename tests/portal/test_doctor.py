"""manage.py portal_doctor: each check OK, or FAIL with what to fix; exit 1 when any fails (issue 9).

The fast tests replace only the two network pings (Redis, the Celery workers) by their answers; the
configuration, the database, the migrations and the job runs are the real ones. The last test, marked
`services`, runs the doctor against the real Redis and a real worker (make test-services).
"""

import datetime
import io
import json
import os
import socket
import zoneinfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from portal import doctor
from services.models import JobRun

BRUSSELS = zoneinfo.ZoneInfo("Europe/Brussels")
MORNING = datetime.datetime(2026, 11, 27, 9, 0, tzinfo=BRUSSELS)  # every nightly job has run by now
NIGHTLY = {  # when beat starts each recorded job (portal/settings.py: CELERY_BEAT_SCHEDULE)
    "extend_prepaid_periods": (1, 30),
    "expire_unpaid": (1, 45),
    "issue_renewal_invoices": (2, 0),
    "send_certificate_expiry_notices": (2, 15),
    "bill_m365_licences": (2, 30),
}


def ran(job: str, day: datetime.date, *, finished: bool = True, errors: list | None = None) -> JobRun:
    hour, minute = NIGHTLY[job]
    started = datetime.datetime.combine(day, datetime.time(hour, minute, 2), tzinfo=BRUSSELS)
    return JobRun.objects.create(
        job=job, started_at=started, finished_at=started + datetime.timedelta(seconds=40) if finished else None,
        for_date=started, errors=errors or [],
    )  # fmt: skip


@pytest.fixture
def production(settings):
    """The test settings as production has them: SMTP, secure cookies, Redis, a worker, no eager tasks."""
    settings.DEBUG = False
    settings.SECRET_KEY = "a-production-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    settings.ALLOWED_HOSTS = ["portal.hosting.example"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "smtp.hosting.example", 587, True
    settings.DEFAULT_FROM_EMAIL = "Hosting portal <portal@hosting.example>"
    settings.SECURE_SSL_REDIRECT = settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.REDIS_URL = "redis://:secret@redis.internal:6379/0"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    return settings


@pytest.fixture
def answering(monkeypatch):
    """Redis and one worker answer their pings (the only network calls the doctor makes)."""
    pinged = []
    monkeypatch.setattr(doctor, "ping_redis", lambda url, *, timeout: pinged.append(url))
    monkeypatch.setattr(doctor, "ping_workers", lambda *, timeout: ["celery@worker-1"])
    return pinged


@pytest.fixture
def healthy(db, production, answering):
    for job in NIGHTLY:
        ran(job, MORNING.date())
    with time_machine.travel(MORNING, tick=False):
        yield


def run_doctor(*args) -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("portal_doctor", *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def line(out: str, name: str) -> str:
    return next(text for text in out.splitlines() if text[4:].lstrip().startswith(f"{name}:"))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


# A healthy installation


def test_a_healthy_installation_passes_every_check_and_exits_zero(healthy, answering):
    out, error = run_doctor()

    assert error is None
    lines = out.splitlines()
    assert all(text.startswith("OK  ") for text in lines[:-1]), out
    assert [text.split(":")[0][4:] for text in lines[:-1]] == [
        "debug", "secret_key", "allowed_hosts", "email", "from_email", "django_checks", "database", "migrations",
        "redis", "worker", "beat", "beat", "beat", "beat", "beat", "beat",
    ]  # fmt: skip
    assert lines[-1] == f"All {len(lines) - 1} checks passed."
    assert line(out, "redis") == "OK  redis: redis://redis.internal:6379/0 answers"  # no password shown
    assert answering == ["redis://:secret@redis.internal:6379/0"]
    assert line(out, "worker") == "OK  worker: 1 answered: celery@worker-1"
    assert line(out, "migrations") == "OK  migrations: all applied"
    assert line(out, "beat:issue_renewal_invoices").endswith(": last run 2026-11-27 02:00, finished")
    assert "purge-expired-invitations, warn-response-deadlines" in line(out, "beat:others")


def test_json_lists_every_check_with_its_fix_for_machines(healthy, settings):
    settings.ALLOWED_HOSTS = ["*"]

    out, error = run_doctor("--json")

    checks = json.loads(out)
    assert error is not None and error.returncode == 1
    assert set(checks[0]) == {"name", "ok", "detail", "fix"}
    failed = [check for check in checks if not check["ok"]]
    assert [check["name"] for check in failed] == ["allowed_hosts"]
    assert "DJANGO_ALLOWED_HOSTS" in failed[0]["fix"]


def test_a_failing_check_is_printed_with_its_fix_and_the_command_exits_one(healthy, settings):
    settings.DEFAULT_FROM_EMAIL = "portal@localhost"

    out, error = run_doctor()

    assert line(out, "from_email") == (
        "FAIL from_email: portal@localhost: mail servers refuse this domain — fix: set DEFAULT_FROM_EMAIL to an "
        "address of your domain, e.g. “Hosting portal <portal@example.com>”"
    )
    assert error.returncode == 1 and str(error) == "1 of 16 checks failed: from_email."


# Configuration


@pytest.mark.parametrize(
    ("setting", "value", "name", "fix"),
    [
        ("SECRET_KEY", "short", "secret_key", "set DJANGO_SECRET_KEY to 50 or more random characters"),
        ("ALLOWED_HOSTS", ["*"], "allowed_hosts", "list the portal's host names in DJANGO_ALLOWED_HOSTS"),
        ("ALLOWED_HOSTS", [], "allowed_hosts", "set DJANGO_ALLOWED_HOSTS"),
        ("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend", "email", "set EMAIL_HOST"),
        ("EMAIL_HOST", "", "email", "set EMAIL_HOST, EMAIL_PORT"),
        ("DEFAULT_FROM_EMAIL", "not an address", "from_email", "set DEFAULT_FROM_EMAIL"),
        ("SESSION_COOKIE_SECURE", False, "django_checks", "security.W012: "),
        ("REDIS_URL", "", "redis", "set REDIS_URL"),
        ("CELERY_TASK_ALWAYS_EAGER", True, "worker", "unset CELERY_TASK_ALWAYS_EAGER and run a worker"),
    ],
)
def test_a_production_misconfiguration_fails_its_check_with_a_fix(healthy, settings, setting, value, name, fix):
    setattr(settings, setting, value)
    checks = {check.name: check for check in doctor.diagnose(timeout=0.5)}
    assert not checks[name].ok and fix in checks[name].fix
    also = ["django_checks"] if setting == "SECRET_KEY" or value == [] else []  # Django's deploy checks see them too
    assert [check.name for check in checks.values() if not check.ok] == [name, *also]


def test_the_embedded_development_run_is_healthy_without_smtp_or_redis(db, settings, answering):
    settings.DEBUG = True
    settings.REDIS_URL = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "Hosting portal <portal@localhost>"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    checks = {check.name: check for check in [*doctor.configuration(), doctor.redis_server(timeout=0.5)]}
    if connection.vendor != "sqlite":  # make test-services: DEBUG on with PostgreSQL is production with DEBUG on
        assert next(name for name, check in checks.items() if not check.ok) == "debug"
        assert checks["debug"].fix == "unset DJANGO_DEBUG (or set it to 0) in the production environment"
        return
    assert all(check.ok for check in checks.values()), checks
    assert checks["debug"].detail == "on: an embedded development run (SQLite under var/)"
    assert checks["email"].detail == "not sent: filebased (development)"
    assert checks["django_checks"].detail == "no warning or error, without the deployment checks (DEBUG on)"


# Database and migrations


def test_the_database_answers_and_no_migration_is_pending_in_the_test_database(db):
    assert doctor.database().ok
    assert doctor.pending_migrations() == []


def test_a_migration_not_applied_fails_with_the_fix_to_migrate(healthy):
    latest = MigrationRecorder.Migration.objects.filter(app="support").latest("id")
    latest.delete()  # as if the new code's migration had not been run (the test's transaction undoes it)

    out, error = run_doctor()

    assert line(out, "migrations") == (
        f"FAIL migrations: 1 not applied: support.{latest.name} — fix: run python manage.py migrate "
        "(before starting the new code's web and worker processes)"
    )
    assert error.returncode == 1


# Redis and the worker


def test_a_redis_url_pointing_at_a_closed_port_fails_with_a_fix(healthy, settings, monkeypatch):
    monkeypatch.undo()  # the real ping this time
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"

    check = doctor.redis_server(timeout=0.5)

    assert not check.ok
    assert check.detail.startswith(f"{settings.REDIS_URL}: ConnectionError: ")
    assert check.fix.startswith("start Redis or correct REDIS_URL")


def test_no_worker_answering_fails_with_how_to_start_one(healthy, monkeypatch):
    monkeypatch.setattr(doctor, "ping_workers", lambda *, timeout: [])

    out, error = run_doctor("--timeout", "0.5")

    assert line(out, "worker") == (
        "FAIL worker: no worker answered within 0.5 s — fix: start one: celery -A portal worker (Procfile: worker); "
        "check its log if one is running"
    )
    assert error.returncode == 1


def test_an_unreachable_broker_is_reported_on_the_worker_check(healthy, monkeypatch):
    def refused(*, timeout):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(doctor, "ping_workers", refused)
    check = doctor.worker(timeout=0.5)
    assert not check.ok and check.detail.startswith("the broker is unreachable: ConnectionRefusedError")


# Beat: the last run of each nightly job


def beat_checks() -> dict:
    return {check.name.removeprefix("beat:"): check for check in doctor.beat()}


def test_a_nightly_job_last_run_the_night_before_is_fine_until_its_time_tonight_plus_the_margin(healthy):
    JobRun.objects.filter(job="expire_unpaid").delete()
    ran("expire_unpaid", MORNING.date() - datetime.timedelta(days=1))
    with time_machine.travel(datetime.datetime(2026, 11, 27, 2, 40, tzinfo=BRUSSELS), tick=False):
        assert beat_checks()["expire_unpaid"].ok  # due at 01:45 tonight: 55 minutes late is within the margin
    with time_machine.travel(datetime.datetime(2026, 11, 27, 2, 51, tzinfo=BRUSSELS), tick=False):
        check = beat_checks()["expire_unpaid"]
    assert not check.ok
    assert check.detail == "last run 2026-11-26 01:45; a run was due 1.1 h ago"
    assert check.fix == (
        "is beat running (celery -A portal beat) and a worker? then run it now: python manage.py expire_unpaid"
    )


def test_a_job_that_never_ran_fails_with_how_to_start_beat(healthy):
    MigrationRecorder.Migration.objects.update(applied=datetime.datetime(2026, 1, 5, tzinfo=BRUSSELS))
    JobRun.objects.filter(job="bill_m365_licences").delete()
    JobRun.objects.create(job="bill_m365_licences", dry_run=True)  # renewals_status's dry runs do not count
    check = beat_checks()["bill_m365_licences"]
    assert not check.ok and check.detail == "never ran"
    assert check.fix.startswith("start beat, once per installation: celery -A portal beat")


def test_a_new_installation_is_not_blamed_for_a_nightly_job_not_due_yet(healthy):
    MigrationRecorder.Migration.objects.update(applied=MORNING - datetime.timedelta(hours=1))
    JobRun.objects.filter(job="bill_m365_licences").delete()
    check = beat_checks()["bill_m365_licences"]
    assert check.ok and check.detail == "no run yet: the first one is not due since the installation"


def test_a_last_run_that_never_finished_or_failed_on_items_is_reported(healthy):
    JobRun.objects.filter(job="issue_renewal_invoices").delete()
    ran("issue_renewal_invoices", MORNING.date(), finished=False)  # seven hours ago
    JobRun.objects.filter(job="send_certificate_expiry_notices").update(errors=["cert 4: SMTPException: down"])

    checks = beat_checks()

    assert checks["issue_renewal_invoices"].detail == "the run of 2026-11-27 02:00 never finished (its worker stopped?)"
    assert checks["send_certificate_expiry_notices"].detail == "the run of 2026-11-27 02:15 failed on 1 item(s)"
    assert [name for name, check in checks.items() if not check.ok] == [
        "issue_renewal_invoices", "send_certificate_expiry_notices",
    ]  # fmt: skip


def test_a_job_still_running_within_the_margin_is_fine(healthy):
    JobRun.objects.filter(job="bill_m365_licences").delete()
    with time_machine.travel(datetime.datetime(2026, 11, 27, 2, 40, tzinfo=BRUSSELS), tick=False):
        ran("bill_m365_licences", MORNING.date(), finished=False)
        assert beat_checks()["bill_m365_licences"].detail == "last run 2026-11-27 02:30, running"


# Against the real servers (make test-services)

REDIS_URL = os.environ.get("REDIS_URL", "")


@pytest.mark.services
@pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL unset: run make test-services")
@pytest.mark.django_db(transaction=True)
def test_the_doctor_pings_the_real_redis_and_a_real_worker(production, settings):
    from celery.contrib.testing.worker import start_worker

    from portal.celery import app

    settings.REDIS_URL = REDIS_URL
    assert doctor.redis_server(timeout=2).ok
    assert not doctor.worker(timeout=1).ok  # no worker yet: nobody answers

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with start_worker(app, perform_ping_check=False, shutdown_timeout=30):
            check = doctor.worker(timeout=2)
    finally:
        app.conf.task_always_eager = eager
    assert check.ok and check.detail.startswith("1 answered: "), check
