"""make bench: gunicorn (2 workers) against the load data, driven from this second process.

Run by `make bench` after the database is filled. Starts gunicorn on 127.0.0.1, signs in as the
big customer's owner and as staff through the login form, then for each page sends requests from
a few threads for a bounded time and number of requests, and writes var/bench/<date>.json
(requests/s, p50/p95/p99, ratios to the baseline /bench/ok/). Only ever talks to 127.0.0.1.
"""

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

from portal.bench import report as bench_report

HOST = "127.0.0.1"


class Session:
    """Cookies and CSRF for one signed-in person, as a browser behind the TLS proxy would send them."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.lock = threading.Lock()

    def headers(self, extra: dict | None = None) -> dict:
        headers = {"Host": f"{HOST}:{self.port}", "X-Forwarded-Proto": "https", "Connection": "keep-alive"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def remember(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            with self.lock:
                self.cookies[name.strip()] = rest.split(";", 1)[0]

    def request(self, connection, method: str, path: str, body: str | None = None, extra: dict | None = None):
        connection.request(method, path, body=body, headers=self.headers(extra))
        response = connection.getresponse()
        data = response.read()
        self.remember(response)
        return response.status, data

    def sign_in(self, email: str, password: str) -> None:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
        status, page = self.request(connection, "GET", "/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        origin = f"https://{HOST}:{self.port}"
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "login": email, "password": password})
        status, _ = self.request(
            connection, "POST", "/accounts/login/", body,
            {"Content-Type": "application/x-www-form-urlencoded", "Origin": origin, "Referer": f"{origin}/accounts/"},
        )  # fmt: skip
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"Signing in as {email} failed (HTTP {status}).")


def measure(session: Session | None, path: str, *, threads: int, seconds: float, max_requests: int) -> dict:
    """Send GET ``path`` from ``threads`` keep-alive connections until the time or the request bound is hit."""
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    anonymous = Session(0)

    def worker(port: int) -> None:
        who = session or anonymous
        connection = http.client.HTTPConnection(HOST, port, timeout=60)
        while time.monotonic() < deadline:
            with lock:
                if len(latencies) + len(errors) >= max_requests:
                    return
            started = time.perf_counter()
            connection.request("GET", path, headers=who.headers() if session else {"X-Forwarded-Proto": "https"})
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                (latencies if response.status == 200 else errors).append(
                    elapsed if response.status == 200 else response.status
                )

    port = session.port if session else PORT
    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(port,)) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    wall = time.monotonic() - started
    if not latencies:
        raise SystemExit(f"{path}: no successful response ({errors[:5]}).")
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "path": path, "requests": len(latencies), "errors": len(errors), "error_statuses": sorted(set(errors)),
        "seconds": round(wall, 2), "requests_per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(cuts[49] * 1000, 1), "p95_ms": round(cuts[94] * 1000, 1), "p99_ms": round(cuts[98] * 1000, 1),
    }  # fmt: skip


PORT = 8765


def targets_from_database(seed: int) -> dict:
    """The big customer's ticket, its 500-record zone and the logins, read once before the load starts."""
    import django

    django.setup()
    from django.db.models import Count

    from services.models import DnsZone
    from support.models import Ticket

    owner = f"m0.c0.s{seed}@load.example"
    zone = (
        DnsZone.objects.filter(service__customer__memberships__user__email=owner)
        .annotate(n=Count("records"))
        .order_by("-n", "pk")
        .first()
    )
    ticket = Ticket.objects.filter(customer__memberships__user__email=owner).order_by("-logged_at").first()
    return {
        "owner": owner, "staff": f"staff.s{seed}@load.example", "zone_pk": zone.service_id, "zone_records": zone.n,
        "ticket": ticket.number,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--password", default="load-data-password-2026")
    parser.add_argument("--seconds", type=float, default=20, help="Per page (default 20).")
    parser.add_argument("--max-requests", type=int, default=5000, help="Per page (default 5000).")
    parser.add_argument("--threads", type=int, default=4, help="Concurrent connections (default 4).")
    parser.add_argument("--sizes", default="", help="JSON of the generated sizes, copied into the result.")
    parser.add_argument("--out", default="var/bench")
    args = parser.parse_args()

    found = targets_from_database(args.seed)
    env = dict(os.environ, PORTAL_BENCH_URLS="1", PORTAL_ADMIN_REQUIRE_MFA="0", DJANGO_SECURE_SSL_REDIRECT="0")
    gunicorn = subprocess.Popen(  # noqa: S603 (fixed arguments)
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "--workers", "2", "--bind", f"{HOST}:{PORT}",
         "--log-level", "warning"],
        env=env,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection(HOST, PORT, timeout=1).request("GET", "/")
                break
            except OSError:
                time.sleep(0.2)
        customer, staff = Session(PORT), Session(PORT)
        customer.sign_in(found["owner"], args.password)
        staff.sign_in(found["staff"], args.password)
        pages = [
            ("baseline", customer, "/bench/ok/"),
            ("login page", None, "/accounts/login/"),
            ("dashboard", customer, "/dashboard/"),
            ("ticket list", customer, "/support/"),
            ("ticket page", customer, f"/support/{found['ticket']}/"),
            (f"DNS editor ({found['zone_records']} records)", customer, f"/services/{found['zone_pk']}/dns/"),
            ("certificate list", customer, "/services/certificates/"),
            ("admin ticket changelist", staff, "/admin/support/ticket/"),
        ]
        results = {}
        for label, session, path in pages:
            measure(session, path, threads=args.threads, seconds=1, max_requests=20)  # warm both workers
            results[label] = measure(
                session, path, threads=args.threads, seconds=args.seconds, max_requests=args.max_requests
            )
            print(f"{label:32} {results[label]['requests_per_second']:8.1f} req/s  p95 {results[label]['p95_ms']} ms")
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)

    base = results["baseline"]
    for label, result in results.items():
        result["throughput_ratio"] = round(result["requests_per_second"] / base["requests_per_second"], 3)
        result["p95_ratio"] = round(result["p95_ms"] / base["p95_ms"], 2)
        if label == "baseline":
            continue
        floor = 0.15 if label.startswith("admin") else 0.3
        result["target"] = f"throughput >= {floor} of baseline" + ("" if floor == 0.15 else ", p95 < 4x baseline")
        result["met"] = result["throughput_ratio"] >= floor and (floor == 0.15 or result["p95_ratio"] < 4)
    report = {
        **bench_report.header(),
        "settings": {"threads": args.threads, "seconds_per_page": args.seconds, "max_requests": args.max_requests,
                     "gunicorn_workers": 2},
        "sizes": json.loads(args.sizes) if args.sizes else {},
        "targets": found,
        "results": results,
    }  # fmt: skip
    bench_report.write(report, out=args.out, kind="bench")


if __name__ == "__main__":
    main()
