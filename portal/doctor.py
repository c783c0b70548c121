"""The checks of ``manage.py portal_doctor``: is this installation configured, and do its servers answer?

Each check returns a ``Check``: a name for machines, whether it passed, what was found and, when it
failed, what to do. Nothing here changes anything. The network checks (Redis, the worker) wait at
most ``timeout`` seconds, so a dead server fails its check quickly instead of hanging the doctor.

"Development" below means DEBUG on with the embedded SQLite database (``make run``): there, e-mails
written to files and no Redis are expected. Anything else is treated as production.
"""

import datetime
from dataclasses import asdict, dataclass
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import redis
from celery.schedules import schedule
from django.conf import settings
from django.core import checks as system_checks
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from portal.celery import app
from services import renewals
from services.models import JobRun

EMBEDDED_SECRET_PREFIX = "django-insecure-"  # noqa: S105 (a prefix to refuse, not a secret)
# A nightly job that has not run this long after it was due is reported: beat was down, or its worker.
BEAT_MARGIN = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def diagnose(*, timeout: float = 1.0) -> list[Check]:
    """Every check, in the order an operator fixes things: configuration, database, Redis, worker, beat."""
    reachable = database()
    unreachable = _("the database is unreachable")
    return [
        *configuration(),
        reachable,
        migrations() if reachable.ok else _skipped("migrations", unreachable),
        redis_server(timeout=timeout),
        worker(timeout=timeout),
        *(beat_or_why() if reachable.ok else [_skipped("beat", unreachable)]),
    ]


def _skipped(name: str, why: str) -> Check:
    return Check(name, False, _("not checked: %(why)s") % {"why": why}, _("fix the checks above first"))


def _development() -> bool:
    return settings.DEBUG and settings.DATABASES[DEFAULT_DB_ALIAS]["ENGINE"].endswith("sqlite3")


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{error.__class__.__name__}: {text[0]}" if text else error.__class__.__name__


# Configuration


def configuration() -> list[Check]:
    return [debug(), secret_key(), allowed_hosts(), email_backend(), sender_address(), django_checks()]


def debug() -> Check:
    if not settings.DEBUG:
        return Check("debug", True, _("off"))
    if _development():
        return Check("debug", True, _("on: an embedded development run (SQLite under var/)"))
    return Check(
        "debug",
        False,
        _("on, with a production database: error pages show settings and code to anyone"),
        _("unset DJANGO_DEBUG (or set it to 0) in the production environment"),
    )


def secret_key() -> Check:
    key = settings.SECRET_KEY
    if settings.DEBUG and key.startswith(EMBEDDED_SECRET_PREFIX):
        return Check("secret_key", True, _("the embedded development key (DEBUG on)"))
    if key.startswith(EMBEDDED_SECRET_PREFIX) or len(key) < 50 or len(set(key)) < 5:
        return Check(
            "secret_key",
            False,
            _("set, but short or guessable (%(length)d characters)") % {"length": len(key)},
            _(
                "set DJANGO_SECRET_KEY to 50 or more random characters, e.g. from "
                "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
            ),
        )
    return Check("secret_key", True, _("set (%(length)d characters)") % {"length": len(key)})


def allowed_hosts() -> Check:
    hosts = settings.ALLOWED_HOSTS
    if not hosts:
        return Check(
            "allowed_hosts",
            False,
            _("empty: every request is refused"),
            _("set DJANGO_ALLOWED_HOSTS to the portal's host names, comma-separated"),
        )
    if "*" in hosts and not settings.DEBUG:
        return Check(
            "allowed_hosts",
            False,
            _("“*” accepts any Host header (links in e-mails could point elsewhere)"),
            _("list the portal's host names in DJANGO_ALLOWED_HOSTS instead of *"),
        )
    return Check("allowed_hosts", True, ", ".join(hosts))


def email_backend() -> Check:
    backend = settings.EMAIL_BACKEND
    if backend == "django.core.mail.backends.smtp.EmailBackend":
        if not settings.EMAIL_HOST or (settings.EMAIL_HOST == "localhost" and not _development()):
            return Check(
                "email",
                False,
                _("SMTP without a server (EMAIL_HOST is %(host)s)") % {"host": settings.EMAIL_HOST},
                _("set EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER and EMAIL_HOST_PASSWORD"),
            )
        security = "TLS" if settings.EMAIL_USE_TLS else "SSL" if settings.EMAIL_USE_SSL else _("no encryption")
        detail = _("SMTP via %(host)s:%(port)s (%(security)s)")
        return Check(
            "email", True, detail % {"host": settings.EMAIL_HOST, "port": settings.EMAIL_PORT, "security": security}
        )
    if _development():
        return Check("email", True, _("not sent: %(backend)s (development)") % {"backend": backend.rsplit(".", 2)[-2]})
    return Check(
        "email",
        False,
        _("e-mails are not sent (%(backend)s)") % {"backend": backend},
        _("set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD) so that e-mails go through SMTP"),
    )


def sender_address() -> Check:
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    fix = _("set DEFAULT_FROM_EMAIL to an address of your domain, e.g. “Hosting portal <portal@example.com>”")
    try:
        validate_email(address)
    except ValidationError:
        return Check(
            "from_email", False, _("not an address: “%(value)s”") % {"value": settings.DEFAULT_FROM_EMAIL}, fix
        )
    domain = address.rsplit("@", 1)[1].lower()
    if not _development() and (domain == "localhost" or domain.endswith((".localhost", ".local"))):
        return Check("from_email", False, _("%(address)s: mail servers refuse this domain") % {"address": address}, fix)
    return Check("from_email", True, settings.DEFAULT_FROM_EMAIL)


def django_checks() -> Check:
    """Django's system checks, with the deployment ones outside development (as `make check-deploy`)."""
    deploy = not settings.DEBUG
    name = "django_checks"
    try:
        messages = system_checks.run_checks(include_deployment_checks=deploy)
    except Exception as error:  # a check that crashes is a finding, not a reason to stop the doctor
        return Check(name, False, _first_line(error), _("run python manage.py check --traceback"))
    found = [m for m in messages if m.level >= system_checks.WARNING and not m.is_silenced()]
    scope = _("with the deployment checks") if deploy else _("without the deployment checks (DEBUG on)")
    if not found:
        return Check(name, True, _("no warning or error, %(scope)s") % {"scope": scope})
    hints = [f"{m.id}: {m.hint}" if m.hint else f"{m.id}: {m.msg}" for m in found]
    return Check(
        name,
        False,
        _("%(count)d problem(s) %(scope)s: %(ids)s")
        % {"count": len(found), "scope": scope, "ids": ", ".join(m.id or "?" for m in found)},
        "; ".join(hints)
        + " "
        + _("(python manage.py check%(deploy)s shows them in full)") % {"deploy": " --deploy" if deploy else ""},
    )


# Database


def database() -> Check:
    connection = connections[DEFAULT_DB_ALIAS]
    where = connection.settings_dict
    detail = f"{connection.vendor} {where.get('HOST') or ''}{':' if where.get('PORT') else ''}{where.get('PORT') or ''}"
    detail = f"{detail.rstrip()} {where['NAME']}".replace("  ", " ")
    if connection.vendor == "sqlite" and not _sqlite_exists(str(where["NAME"])):  # connecting would create it
        return Check(
            "database", False, _("%(detail)s: no such file") % {"detail": detail}, _("run python manage.py migrate")
        )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return Check(
            "database",
            False,
            f"{detail}: {_first_line(error)}",
            _("check DATABASE_URL and that the database server is running and accepts this user"),
        )
    return Check("database", True, detail)


def _sqlite_exists(name: str) -> bool:
    in_memory = name == ":memory:" or "mode=memory" in name
    return in_memory or Path(name).is_file()


def pending_migrations() -> list[str]:
    """``app.migration`` names not applied yet to the default database."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, backwards in plan if not backwards]


def migrations() -> Check:
    try:
        pending = pending_migrations()
    except Exception as error:
        return Check("migrations", False, _first_line(error), _("run python manage.py migrate --plan to see why"))
    if pending:
        shown = ", ".join(pending[:5]) + (" …" if len(pending) > 5 else "")
        return Check(
            "migrations",
            False,
            _("%(count)d not applied: %(names)s") % {"count": len(pending), "names": shown},
            _("run python manage.py migrate (before starting the new code's web and worker processes)"),
        )
    return Check("migrations", True, _("all applied"))


# Redis


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def ping_redis(url: str, *, timeout: float) -> None:
    """Raise unless the Redis server at ``url`` answers PING within ``timeout`` seconds."""
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()


def redis_server(*, timeout: float) -> Check:
    url = settings.REDIS_URL
    if not url:
        if _development():
            return Check("redis", True, _("not used: file cache and filesystem broker under var/ (development)"))
        return Check(
            "redis",
            False,
            _(
                "REDIS_URL is not set: each web process keeps its own sign-in rate limits and the broker is "
                "this machine's disk"
            ),
            _("set REDIS_URL, e.g. redis://redis.internal:6379/0 (broker and cache)"),
        )
    try:
        ping_redis(url, timeout=timeout)
    except Exception as error:
        return Check(
            "redis",
            False,
            f"{_redacted(url)}: {_first_line(error)}",
            _(
                "start Redis or correct REDIS_URL; without it no task reaches a worker and sign-ins are refused "
                "as rate limited"
            ),
        )
    return Check("redis", True, _("%(url)s answers") % {"url": _redacted(url)})


# Celery


def ping_workers(*, timeout: float) -> list[str]:
    """The names of the Celery workers that answer a broadcast ping within ``timeout`` seconds."""
    replies = app.control.ping(timeout=timeout) or []
    return sorted(name for reply in replies for name in reply)


def worker(*, timeout: float) -> Check:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        if settings.DEBUG:
            return Check("worker", True, _("not needed: tasks run in the calling process (CELERY_TASK_ALWAYS_EAGER)"))
        return Check(
            "worker",
            False,
            _("CELERY_TASK_ALWAYS_EAGER is on: e-mails and jobs run inside web requests"),
            _("unset CELERY_TASK_ALWAYS_EAGER and run a worker: celery -A portal worker (Procfile: worker)"),
        )
    try:
        names = ping_workers(timeout=timeout)
    except Exception as error:
        return Check(
            "worker",
            False,
            _("the broker is unreachable: %(error)s") % {"error": _first_line(error)},
            _("fix the broker first (REDIS_URL), then check the workers"),
        )
    if not names:
        return Check(
            "worker",
            False,
            _("no worker answered within %(timeout)s s") % {"timeout": timeout},
            _("start one: celery -A portal worker (Procfile: worker); check its log if one is running"),
        )
    return Check("worker", True, _("%(count)d answered: %(names)s") % {"count": len(names), "names": ", ".join(names)})


# Beat


def _schedule(value):
    """A beat entry's schedule as Celery's object (settings may give seconds); it reads the app's time zone."""
    return schedule(run_every=value) if isinstance(value, int | float | datetime.timedelta) else value


def recorded_jobs() -> set[str]:
    """The jobs that leave a JobRun row each time they run (services/jobs.py: ``recorded``)."""
    return {name for name, _job in renewals.jobs_for(today=timezone.localdate(), now=timezone.now())}


def beat_or_why() -> list[Check]:
    try:
        return beat()
    except DatabaseError as error:  # a database not migrated yet has no job run table
        return [Check("beat", False, _first_line(error), _("run python manage.py migrate"))]


def installed_at() -> datetime.datetime | None:
    """When the installation's database was first migrated."""
    return MigrationRecorder.Migration.objects.order_by("applied").values_list("applied", flat=True).first()


def _first_run_not_due_yet(every) -> bool:
    """A new installation has no run of a nightly job until its first night: not a fault."""
    installed = installed_at()
    if installed is None:
        return False
    late = -_schedule(every).remaining_estimate(timezone.localtime(installed, app.timezone))
    return late <= BEAT_MARGIN


def beat() -> list[Check]:
    """For each beat entry whose job records its runs: did its last run happen on time, finish, succeed?"""
    now = timezone.now()
    recorded = recorded_jobs()
    results, unrecorded = [], []
    for entry, options in sorted(settings.CELERY_BEAT_SCHEDULE.items()):
        job = options["task"].rsplit(".", 1)[-1]
        if job not in recorded:
            unrecorded.append(entry)
            continue
        name = f"beat:{job}"
        run_it = _("run it now: python manage.py %(job)s") % {"job": job}
        last = JobRun.objects.filter(job=job, dry_run=False).order_by("-started_at", "-pk").first()
        if last is None and _first_run_not_due_yet(options["schedule"]):
            results.append(Check(name, True, _("no run yet: the first one is not due since the installation")))
            continue
        if last is None:
            results.append(
                Check(
                    name,
                    False,
                    _("never ran"),
                    _("start beat, once per installation: celery -A portal beat; or ") + run_it,
                )
            )
            continue
        started = timezone.localtime(last.started_at, app.timezone)
        late = -_schedule(options["schedule"]).remaining_estimate(started)
        when = f"{timezone.localtime(last.started_at):%Y-%m-%d %H:%M}"
        if late > BEAT_MARGIN:
            results.append(
                Check(
                    name,
                    False,
                    _("last run %(when)s; a run was due %(late)s ago") % {"when": when, "late": _hours(late)},
                    _("is beat running (celery -A portal beat) and a worker? then ") + run_it,
                )
            )
        elif last.finished_at is None and now - last.started_at > BEAT_MARGIN:
            results.append(
                Check(
                    name,
                    False,
                    _("the run of %(when)s never finished (its worker stopped?)") % {"when": when},
                    _("see Job runs in the admin; the job is safe to run again: ") + run_it,
                )
            )
        elif last.errors:
            results.append(
                Check(
                    name,
                    False,
                    _("the run of %(when)s failed on %(count)d item(s)") % {"when": when, "count": len(last.errors)},
                    _("see its errors under Job runs in the admin, fix them, then ") + run_it,
                )
            )
        else:
            state = pgettext("job run state", "finished") if last.finished_at else _("running")
            results.append(Check(name, True, _("last run %(when)s, %(state)s") % {"when": when, "state": state}))
    if unrecorded:
        results.append(
            Check(
                "beat:others",
                True,
                _("not checked (they record no job run): %(entries)s") % {"entries": ", ".join(unrecorded)},
            )
        )
    return results


def _hours(delta: datetime.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours >= 48:
        return _("%(days)d days") % {"days": hours // 24}
    return _("%(hours)s h") % {"hours": number_format(hours, decimal_pos=1)}  # 3,5 h in French and Dutch
