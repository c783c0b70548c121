"""The settings refuse unsafe production starts and pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789-abcdefgh",
    "DJANGO_ALLOWED_HOSTS": "portal.example",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "CELERY_"))
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="portal.settings", PORTAL_VAR_DIR=str(ROOT / "var" / "settings-test"))
    return subprocess.run(  # noqa: S603  (our own manage.py, fixed arguments)
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_with_debug_off_it_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_check_deploy_reports_no_warning_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_embedded_default_is_sqlite_filesystem_celery_and_file_emails():
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.EMAIL_BACKEND, s.CACHES['default']['BACKEND'])"
    )
    result = _manage("shell", "--no-imports", "-c", code, DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    engine, broker, email, cache = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert broker == "filesystem://"
    assert email == "django.core.mail.backends.filebased.EmailBackend"
    assert cache == "django.core.cache.backends.filebased.FileBasedCache"


def test_production_uses_postgres_redis_and_smtp_from_the_environment():
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.EMAIL_BACKEND, s.CACHES['default']['BACKEND'])"
    )
    result = _manage(
        "shell", "--no-imports", "-c", code, **PRODUCTION,
        DATABASE_URL="postgres://portal@db.internal:5432/portal", REDIS_URL="redis://cache.internal:6379/0",
        EMAIL_HOST="smtp.internal",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://cache.internal:6379/0",
        "django.core.mail.backends.smtp.EmailBackend",
        "portal.cache.TolerantRedisCache",
    ]


def test_celery_tasks_ack_late_and_retry_with_backoff():
    from portal.celery import app
    from portal.tasks import send_email

    assert app.conf.task_acks_late is True
    assert send_email.acks_late is True
    assert send_email.retry_backoff and send_email.max_retries >= 3
    assert OSError in send_email.autoretry_for


def test_migrations_are_checked_on_a_bare_checkout_without_any_variable():
    result = _manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout
