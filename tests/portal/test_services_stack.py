"""The portal on the servers production uses: PostgreSQL, the Redis cache and broker, a real Celery worker.

`make test-services` sets DATABASE_URL and REDIS_URL; `make test` deselects these tests. REDIS_URL must
name a throwaway database (the Makefile uses db 15): it is flushed before and after the worker runs.
"""

import contextlib
import os
import time
import uuid

import pytest
import redis
from celery import signals
from celery.contrib.testing.worker import start_worker
from celery.result import EagerResult
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection, transaction

from accounts.models import AuditEvent, Invitation
from accounts.roles import Role
from portal import mail
from portal.celery import app
from portal.tasks import ping, send_email

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
CONFIGURED = DATABASE_URL.startswith(("postgres://", "postgresql://")) and bool(REDIS_URL)

# A skipif mark (not a module-level skip) so that `make test` and `make browser-test`, which
# deselect these tests, report no skip; `make test-services` always configures both.
pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not CONFIGURED, reason="DATABASE_URL (PostgreSQL) and REDIS_URL unset: run make test-services"),
]


def wait_until(condition, timeout: float = 15.0):
    """Poll ``condition`` until it returns something truthy or ``timeout`` seconds pass; return its last value.

    The worker runs in another thread, so its effects arrive a little later; this is the bound on "later".
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def _leave_logging_alone(**kwargs) -> None:
    """Any setup_logging receiver stops the embedded worker from replacing the root logger's handlers
    (pytest's capture among them) with its own, for the rest of the test run."""


@pytest.fixture(scope="module")
def celery_worker():
    """A worker thread consuming from the Redis broker, with the app no longer eager.

    Module-scoped on purpose: starting a worker closes the main thread's database connection (Celery's
    Django fixup), which must happen before a test opens its transaction, not inside it.
    """
    assert app.conf.broker_url == REDIS_URL
    broker_db = redis.Redis.from_url(REDIS_URL)
    broker_db.flushdb()
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    signals.setup_logging.connect(_leave_logging_alone)
    try:
        with start_worker(app, perform_ping_check=False, shutdown_timeout=30) as worker:
            yield worker
    finally:
        signals.setup_logging.disconnect(_leave_logging_alone)
        app.conf.task_always_eager = eager
        broker_db.flushdb()
        broker_db.close()


@pytest.fixture
def published():
    """Names of the tasks sent to the broker from this thread during the test."""
    names = []

    def record(sender=None, **kwargs):
        names.append(sender)

    signals.after_task_publish.connect(record, weak=False)
    yield names
    signals.after_task_publish.disconnect(record)


@pytest.mark.django_db
def test_the_database_is_postgresql():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL")


def test_the_cache_is_redis():
    cache = caches["default"]
    assert isinstance(cache, RedisCache)
    key = f"services-stack-{uuid.uuid4().hex}"
    cache.set(key, {"answer": 42}, timeout=60)
    try:
        assert cache.get(key) == {"answer": 42}
        assert redis.Redis.from_url(REDIS_URL).exists(cache.make_and_validate_key(key)) == 1
    finally:
        cache.delete(key)


def test_celery_publishes_to_the_redis_broker():
    assert app.conf.broker_url == REDIS_URL
    with app.connection_for_write() as broker:
        assert broker.transport.driver_type == "redis"


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_a_task_from_redis_and_its_write_lands_in_postgresql(celery_worker, published):
    marker = f"marker-{uuid.uuid4().hex}"

    result = ping.delay(marker)

    assert not isinstance(result, EagerResult)
    assert published == ["portal.tasks.ping"]
    assert wait_until(lambda: AuditEvent.objects.filter(action="system.ping", details__marker=marker).exists())


@pytest.mark.django_db(transaction=True)
def test_a_worker_sends_an_email_task_from_redis(celery_worker, mailoutbox):
    result = send_email.delay(
        to=["owner@acme.example"], subject="Stack check", text="Plain text", html="<p>HTML part</p>"
    )

    assert not isinstance(result, EagerResult)
    assert wait_until(lambda: len(mailoutbox) == 1)
    message = mailoutbox[0]
    assert message.to == ["owner@acme.example"]
    assert message.subject == "Stack check"
    assert message.body == "Plain text"
    assert message.alternatives[0].content == "<p>HTML part</p>"


@pytest.mark.django_db
def test_a_templated_email_is_enqueued_only_after_commit_and_the_worker_delivers_it(
    celery_worker, published, mailoutbox, customer, owner, django_capture_on_commit_callbacks
):
    invitation = Invitation.objects.create(
        customer=customer, email="new@acme.example", role=Role.TECHNICAL, invited_by=owner
    )
    context = {"invitation": invitation, "link": "https://portal.example/invitation/x/", "days": 7}

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            mail.send_templated(to=["new@acme.example"], template_prefix="accounts/email/invitation", context=context)
        with contextlib.suppress(RuntimeError), transaction.atomic():
            mail.send_templated(
                to=["rolled-back@acme.example"], template_prefix="accounts/email/invitation", context=context
            )
            raise RuntimeError("roll back")
        # The test's outer transaction has not committed: nothing may have reached the broker yet.
        assert published == []

    assert len(callbacks) == 1
    assert published == ["portal.tasks.send_email"]
    assert wait_until(lambda: len(mailoutbox) == 1)
    message = mailoutbox[0]
    assert message.to == ["new@acme.example"]
    assert message.subject == "You are invited to manage Acme SRL on the hosting portal"
    assert "https://portal.example/invitation/x/" in message.body
