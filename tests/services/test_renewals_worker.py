"""The renewal jobs through real Celery workers consuming from Redis against PostgreSQL (issue 7, item 8).

- The same job enqueued twice at once (two worker threads racing) sends each notice once and issues
  each invoice once: the unique constraints decide, not the timing.
- A worker killed with SIGKILL in the middle of a job leaves no half-done item (each batch of items is
  one transaction, rolled back by PostgreSQL when the connection dies) and loses no notice: the task is
  acknowledged late, so Redis delivers it again (to a new worker once the visibility timeout has passed,
  or at once to the same worker when only its pool process died: ``reject_on_worker_lost``), and the
  second run does only what the first did not commit.

The killed worker is a real ``celery -A portal worker`` subprocess on the test database. Its job is
slowed with ``RENEWALS_ITEM_DELAY_SECONDS`` (a test-only setting read per item) so that the kill lands
mid-job. `make test-services` sets DATABASE_URL and REDIS_URL; REDIS_URL must name a throwaway database
(it is flushed).
"""

import datetime
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import pytest
import redis
from celery import signals
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.db import connection

from accounts.roles import Role
from billing.models import Invoice, InvoiceLine
from portal.celery import app
from services import renewals, tasks
from services.models import (
    Certificate,
    CertificateNotice,
    CertificateRequest,
    JobRun,
    Kind,
    Service,
    ServiceEvent,
)
from tests.factories import CustomerFactory, MembershipFactory, PlanFactory, ServiceFactory

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
CONFIGURED = DATABASE_URL.startswith(("postgres://", "postgresql://")) and bool(REDIS_URL)

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not CONFIGURED, reason="DATABASE_URL (PostgreSQL) and REDIS_URL unset: run make test-services"),
]

BRUSSELS = ZoneInfo("Europe/Brussels")
TODAY = datetime.date(2026, 11, 27)
KILL_QUEUE = "renewals-kill-test"
ROOT = Path(__file__).resolve().parents[2]


def wait_until(condition, timeout: float = 20.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


@pytest.fixture
def broker():
    """The Redis broker, emptied, with tasks really sent to it (the test settings run them eagerly)."""
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield client
    app.conf.task_always_eager = eager
    client.flushdb()
    client.close()


# Data (committed: the workers read it from other connections)


def certificates(customer, n: int, *, expires: datetime.date) -> list[Certificate]:
    made = []
    for i in range(n):
        request = CertificateRequest.objects.create(
            customer=customer, names=[f"site{i}.acme.example"], status=CertificateRequest.Status.ISSUED,
            key_source=CertificateRequest.KeySource.GENERATED, csr_pem="-----BEGIN CERTIFICATE REQUEST-----",
        )  # fmt: skip
        not_after = datetime.datetime.combine(expires, datetime.time(12), tzinfo=BRUSSELS)
        made.append(
            Certificate.objects.create(
                request=request,
                pem="-----BEGIN CERTIFICATE-----",
                subject="CN=x",
                issuer="CN=Demo CA",
                serial_number=str(i),
                names=request.names,
                not_before=not_after - datetime.timedelta(days=365),
                not_after=not_after,
                key_type="EC",
                key_size=256,
            )
        )
    return made


@pytest.fixture
def acme(db):
    customer = CustomerFactory(name="Acme SRL")
    MembershipFactory(customer=customer, role=Role.OWNER, user__email="owner@acme.example")
    MembershipFactory(customer=customer, role=Role.TECHNICAL, user__email="tech@acme.example")
    return customer


def expiry_subjects(messages) -> list[str]:
    return [m for m in messages if m.startswith("Your SSL certificate for")]


# 1. The same job enqueued twice at once


def _leave_logging_alone(**kwargs) -> None:
    """Keeps the embedded worker from replacing pytest's log handlers (see test_services_stack.py)."""


@pytest.fixture
def racing_worker(broker):
    """Two worker threads consuming from Redis: two deliveries of one job run at the same time."""
    signals.setup_logging.connect(_leave_logging_alone)
    try:
        with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=30):
            yield
    finally:
        signals.setup_logging.disconnect(_leave_logging_alone)


@pytest.mark.django_db(transaction=True)
def test_the_same_jobs_enqueued_twice_at_once_send_each_notice_once_and_issue_each_invoice_once(
    acme, racing_worker, mailoutbox, settings
):
    settings.RENEWALS_ITEM_DELAY_SECONDS = 0.1  # long enough for the two runs to overlap
    certs = certificates(acme, 5, expires=TODAY + datetime.timedelta(days=7))
    hostings = [
        ServiceFactory(customer=CustomerFactory(), current_period_end=TODAY + datetime.timedelta(days=20))
        for _ in range(5)
    ]

    for task in (tasks.send_certificate_expiry_notices, tasks.issue_renewal_invoices):
        task.delay(TODAY.isoformat())
        task.delay(TODAY.isoformat())

    assert wait_until(lambda: JobRun.objects.filter(finished_at__isnull=False).count() == 4)
    assert wait_until(lambda: len(mailoutbox) >= 10)
    time.sleep(0.5)  # a duplicate e-mail would have arrived by now

    notices = CertificateNotice.objects.all()
    assert sorted(n.certificate_id for n in notices) == sorted(c.pk for c in certs)
    assert {n.days_before for n in notices} == {7}
    assert sorted(line.service_id for line in InvoiceLine.objects.all()) == sorted(s.pk for s in hostings)
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [f"2026-{n:05d}" for n in range(1, 6)]
    subjects = [m.subject for m in mailoutbox]
    assert len(expiry_subjects(subjects)) == len(set(expiry_subjects(subjects))) == 5
    assert len([s for s in subjects if s.endswith("the renewal of your services")]) == 5
    first, second = JobRun.objects.filter(job="send_certificate_expiry_notices").order_by("pk")
    assert first.started_at < second.finished_at and second.started_at < first.finished_at  # they did race
    assert first.counts.get("sent (7 days)", 0) + second.counts.get("sent (7 days)", 0) == 5


# 2. A worker killed in the middle of a job


def _test_database_url() -> str:
    """DATABASE_URL pointing at the database pytest-django created for this run."""
    parts = urlsplit(DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def _start_worker(tmp_path: Path, *, delay: float, name: str) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("EMAIL_", "CELERY_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings", DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="localhost",
        DJANGO_SECRET_KEY="worker-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        DATABASE_URL=_test_database_url(), REDIS_URL=REDIS_URL, PORTAL_VAR_DIR=str(tmp_path / "var"),
        EMAIL_FILE_PATH=str(tmp_path / "mail"), CELERY_VISIBILITY_TIMEOUT="2",
        RENEWALS_ITEM_DELAY_SECONDS=str(delay), JOBS_BATCH_SIZE="2",  # batches commit while the job runs
    )  # fmt: skip
    command = [
        sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=prefork", "--concurrency=1",
        f"--queues={KILL_QUEUE},celery", f"--hostname={name}-{uuid.uuid4().hex[:6]}@%h", "--without-gossip",
        "--without-mingle", "--without-heartbeat", "--loglevel=WARNING",
    ]  # fmt: skip
    log = (tmp_path / f"{name}.log").open("wb")
    return subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _mails(tmp_path: Path) -> list[str]:
    folder = tmp_path / "mail"
    if not folder.exists():
        return []
    return [
        line.removeprefix("Subject: ")
        for path in folder.iterdir()
        for line in path.read_text(errors="replace").splitlines()
        if line.startswith("Subject: ")
    ]


def _paid_renewals(customer, n: int) -> list[Service]:
    """Services whose renewal invoice is paid but whose period is not extended yet (the job's work)."""
    services = []
    for i in range(n):
        service = ServiceFactory(
            customer=customer, plan=PlanFactory(kind=Kind.SHARED_HOSTING), name=f"site{i}.acme.example",
            current_period_end=TODAY + datetime.timedelta(days=10),
        )  # fmt: skip
        (invoice,), _ = renewals.issue_lines(customer=customer, lines=[renewals.renewal_line(service)], today=TODAY)
        Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.PAID)  # paid; the hook did not run
        services.append(service)
    return services


def _extended(services: list[Service]) -> int:
    return Service.objects.filter(
        pk__in=[s.pk for s in services], current_period_end=TODAY + datetime.timedelta(days=10 + 365)
    ).count()


JOBS = {
    "extend_prepaid_periods": tasks.extend_prepaid_periods,
    "send_certificate_expiry_notices": tasks.send_certificate_expiry_notices,
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("job", "killed"),
    [
        ("send_certificate_expiry_notices", "the whole worker"),
        ("extend_prepaid_periods", "the whole worker"),
        ("extend_prepaid_periods", "its pool process"),
    ],
)
def test_a_worker_killed_mid_job_leaves_no_half_done_item_and_no_lost_notice(job, killed, acme, broker, tmp_path):
    n = 6
    if job == "extend_prepaid_periods":
        services = _paid_renewals(acme, n)
        done = lambda: _extended(services)  # noqa: E731
        arguments = ()
    else:
        certs = certificates(acme, n, expires=TODAY + datetime.timedelta(days=14))
        done = lambda: CertificateNotice.objects.filter(certificate__in=certs).count()  # noqa: E731
        arguments = (TODAY.isoformat(),)
    assert done() == 0
    first = _start_worker(tmp_path, delay=0.5, name="first")
    second = None
    try:
        JOBS[job].apply_async(arguments, queue=KILL_QUEUE)
        assert wait_until(lambda: done() >= 2, timeout=30), (tmp_path / "first.log").read_text()
        if killed == "the whole worker":
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
            partial = done()
            assert 2 <= partial < n  # really killed in the middle
            time.sleep(2.5)  # the visibility timeout: the unacknowledged task is delivered again
            second = _start_worker(tmp_path, delay=0, name="second")
        else:
            (pool_process,) = _children(first.pid)
            os.kill(pool_process, signal.SIGKILL)
            partial = done()
            assert 2 <= partial < n
        assert wait_until(lambda: done() == n, timeout=30), (tmp_path / "first.log").read_text()
        assert wait_until(lambda: JobRun.objects.filter(job=job, finished_at__isnull=False).exists())
        if job == "send_certificate_expiry_notices":
            assert wait_until(lambda: len(expiry_subjects(_mails(tmp_path))) >= n)
            time.sleep(1)  # a duplicate would have arrived by now
    finally:
        _stop(first)
        if second is not None:
            _stop(second)

    runs = JobRun.objects.filter(job=job).order_by("pk")
    assert [run.finished_at is None for run in runs] == [True, False]  # the killed run never finished
    if job == "extend_prepaid_periods":
        for service in services:  # each period extended once, with its history: nothing half-done
            periods = service.events.filter(field=ServiceEvent.Field.PERIOD).values_list("new_value", flat=True)
            assert list(periods) == [f"{TODAY + datetime.timedelta(days=10)} → {TODAY + datetime.timedelta(days=375)}"]
        assert runs.last().counts == {"extended": n - partial}
    else:
        assert sorted(CertificateNotice.objects.values_list("certificate_id", flat=True)) == sorted(c.pk for c in certs)
        subjects = expiry_subjects(_mails(tmp_path))
        assert sorted(subjects) == sorted(
            f"Your SSL certificate for site{i}.acme.example expires in 14 days" for i in range(n)
        )
        assert runs.last().counts == {"sent (14 days)": n - partial}
    assert django_settings.RENEWALS_ITEM_DELAY_SECONDS == 0  # only the subprocess worker was slowed
