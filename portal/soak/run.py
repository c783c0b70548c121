"""`make soak`: a dedicated PostgreSQL database and Redis, gunicorn (4 sync workers) and a Celery worker on
127.0.0.1, N simulated customers for SOAK_SECONDS, then the faults while they keep working: Redis stopped,
the worker killed mid-queue, PostgreSQL connections terminated. Then every accepted write is looked for
in the database. Prints a summary and exits non-zero on any failure; whatever it started is stopped in
``finally`` (also on Ctrl-C or SIGTERM).

Settings (environment): SOAK_CUSTOMERS (50), SOAK_SECONDS (60), SOAK_REDIS_DOWN_SECONDS (20),
SOAK_THINK_SECONDS (0.5), SOAK_WEB_WORKERS (4), SOAK_PORT (8790), SOAK_REDIS_PORT (6390),
SOAK_DATABASE (portal_soak), SOAK_POSTGRES (postgres://postgres@127.0.0.1:5432).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
VAR = ROOT / "var" / "soak"
BIN = Path(sys.executable).parent
CUSTOMERS = int(os.environ.get("SOAK_CUSTOMERS", "50"))
SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))
REDIS_DOWN = float(os.environ.get("SOAK_REDIS_DOWN_SECONDS", "20"))
THINK = float(os.environ.get("SOAK_THINK_SECONDS", "0.5"))
# Four, not the Procfile's default two: the parallel accepts of one customer must really run at once.
WEB_WORKERS = int(os.environ.get("SOAK_WEB_WORKERS", "4"))
PORT = int(os.environ.get("SOAK_PORT", "8790"))
REDIS_PORT = int(os.environ.get("SOAK_REDIS_PORT", "6390"))
DATABASE = os.environ.get("SOAK_DATABASE", "portal_soak")
POSTGRES = os.environ.get("SOAK_POSTGRES", "postgres://postgres@127.0.0.1:5432").rstrip("/")
BASE_URL = f"http://127.0.0.1:{PORT}"
ENV = {
    **os.environ,
    "DATABASE_URL": f"{POSTGRES}/{DATABASE}",
    "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/14",
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "soak-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "PORTAL_REAUTHENTICATION_REQUIRED": "0",
    "PORTAL_VAR_DIR": str(VAR),
    "EMAIL_FILE_PATH": str(VAR / "mail"),
    "CELERY_VISIBILITY_TIMEOUT": "15",  # a killed worker's unacknowledged mails come back within the soak
    "DJANGO_LOG_LEVEL": "WARNING",
}
for _name in ("EMAIL_HOST", "CELERY_TASK_ALWAYS_EAGER", "DJANGO_SETTINGS_MODULE"):
    ENV.pop(_name, None)


def log(text: str) -> None:
    # UTC: the checks set up Django, which sets the process's time zone to Brussels half-way through.
    print(f"[soak {time.strftime('%H:%M:%SZ', time.gmtime())}] {text}", flush=True)


class Servers:
    """The processes the soak starts, stopped in reverse order by ``stop``."""

    def __init__(self):
        self.web = self.worker = None
        self.redis_up = False
        self.logs = []

    def _start(self, name: str, *command: str) -> subprocess.Popen:
        output = open(VAR / f"{name}.log", "a")  # noqa: SIM115 - closed in stop()
        self.logs.append(output)
        return subprocess.Popen(
            command, cwd=ROOT, env=ENV, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start_redis(self) -> None:
        subprocess.run(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(REDIS_PORT), "--save", "", "--appendonly", "no",
             "--daemonize", "yes", "--logfile", str(VAR / "redis.log"), "--dir", str(VAR)],
            check=True,
        )  # fmt: skip
        self.redis_up = True
        wait_for(
            lambda: subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True).returncode == 0
        )

    def stop_redis(self) -> None:
        subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"], capture_output=True)
        self.redis_up = False

    def start_web(self) -> None:
        self.web = self._start("gunicorn", str(BIN / "gunicorn"), "portal.wsgi", "--bind", f"127.0.0.1:{PORT}",
                               "--workers", str(WEB_WORKERS), "--timeout", "60")  # fmt: skip
        wait_for(lambda: _get("/accounts/login/") == 200, timeout=60)

    def start_worker(self) -> None:
        self.worker = self._start("celery", str(BIN / "celery"), "-A", "portal", "worker", "--concurrency", "2",
                                  "--loglevel", "WARNING", "--without-gossip", "--without-mingle")  # fmt: skip

    def kill_worker(self) -> None:
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait()

    def stop(self) -> None:
        for process in (self.worker, self.web):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        if self.redis_up:
            self.stop_redis()
        for output in self.logs:
            output.close()


def _get(path: str) -> int | None:
    try:
        return httpx.get(BASE_URL + path, timeout=5).status_code
    except httpx.HTTPError:
        return None


def wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for a server to start")
        time.sleep(0.2)


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=ENV, check=True)


def prepare_database() -> list[dict]:
    admin = f"{POSTGRES}/postgres"
    for sql in (f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)', f'CREATE DATABASE "{DATABASE}"'):
        subprocess.run(["psql", admin, "-q", "-c", sql], check=True)
    manage("migrate", "--no-input", "-v", "0")
    manage("collectstatic", "--no-input", "-v", "0")
    manage("load_demo", "--force")
    manage("soak_prepare", "--force", "--customers", str(CUSTOMERS), "--output", str(VAR / "customers.json"))
    return json.loads((VAR / "customers.json").read_text())


def reset_login_rate_limit() -> None:
    """Every simulated customer signs in from 127.0.0.1, and allauth allows 30 sign-ins a minute per
    address: the soak clears that count (in its own Redis) before each batch of 25 sign-ins."""
    keys = subprocess.run(
        ["redis-cli", "-p", str(REDIS_PORT), "-n", "14", "--scan", "--pattern", "*allauth:rl*"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    if keys:
        subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "-n", "14", "del", *keys], capture_output=True, check=True)


def terminate_backends() -> int:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", DATABASE):
        raise SystemExit(f"SOAK_DATABASE must be a plain database name, not {DATABASE!r}.")
    # DATABASE is checked above to be a plain identifier.
    sql = (
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        f"WHERE datname = '{DATABASE}' AND pid <> pg_backend_pid()"  # nosec B608
    )
    out = subprocess.run(["psql", f"{POSTGRES}/postgres", "-tA", "-c", sql], capture_output=True, text=True, check=True)
    return int(out.stdout.strip() or 0)


def main() -> int:
    from portal.soak import checks, driver

    shutil.rmtree(VAR, ignore_errors=True)
    (VAR / "mail").mkdir(parents=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    servers = Servers()
    try:
        servers.start_redis()  # before the data: mails of the demo go through the broker
        rows = prepare_database()
        servers.start_web()
        servers.start_worker()
        stats = driver.Stats()
        customers = [driver.Customer(BASE_URL, row, driver.PASSWORD, stats) for row in rows]
        signed_in = 0
        for number, customer in enumerate(customers):
            if number % 25 == 0:
                reset_login_rate_limit()
            signed_in += customer.sign_in()
        log(f"{signed_in}/{len(customers)} customers signed in; working for {SECONDS:.0f} s")
        stop = threading.Event()
        threads = [threading.Thread(target=c.work, args=(stop, THINK), daemon=True) for c in customers]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(SECONDS)
        load_seconds = time.monotonic() - started

        stats.phase = "redis-down"
        servers.stop_redis()
        log(f"fault a: Redis stopped for {REDIS_DOWN:.0f} s")
        time.sleep(REDIS_DOWN)
        servers.start_redis()
        stats.phase = "redis-back"
        log("Redis is back")
        time.sleep(5)

        stats.phase = "worker-killed"
        servers.kill_worker()
        log("fault b: Celery worker killed (SIGKILL); customers go on for 5 s, then a new worker starts")
        time.sleep(5)
        servers.start_worker()
        stats.phase = "worker-back"
        time.sleep(5)

        stats.phase = "postgres-dropped"
        terminated = terminate_backends()
        time.sleep(1)
        terminated += terminate_backends()
        log(f"fault c: {terminated} PostgreSQL connections of {DATABASE} terminated")
        time.sleep(3)
        stats.phase = "recovered"
        time.sleep(5)
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
        recovered = [customer.request("GET", "/dashboard/") for customer in customers]
        os.environ.update(ENV)  # the checks read the soak database
        failures = checks.run(
            customers=customers, stats=stats, signed_in=signed_in, load_seconds=load_seconds, recovered=recovered,
            mail_dir=VAR / "mail", log=log,
        )  # fmt: skip
    finally:
        servers.stop()
    for failure in failures:
        log(f"FAILED: {failure}")
    log("PASSED" if not failures else f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
