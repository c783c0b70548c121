"""make bench, after the pages: the nightly jobs over the load data, in rows per second (issue 8, item 4).

Runs the certificate expiry notices, the renewal invoices and the expiry of unpaid periods, in beat's
order, with ``dry_run=False`` (the real path: claims, invoices, history, audit, e-mails rendered) inside
one transaction that is rolled back at the end, so the bench database is left as it was and nothing is
sent (the e-mails are enqueued on commit, which never comes). Each job's items are batches inside that
transaction, so its batch transactions are savepoints here (two more queries each) where production
commits them.

The database is analyzed first: freshly filled and with autovacuum off (as on the CI machine), the
planner has no statistics and picks plans that production, analyzed by autovacuum, would not.

The load data dates its rows from the day it was generated (``portal.load_data``): certificates expire
from 30 days before to 400 days after it, service periods end from 5 days before to 365 days after. The
jobs run for that day (read from the load zones' serials), so about a month of certificates is due a
notice, a month of periods is due a renewal invoice, and five days of periods ended unpaid. The renewal
invoices issued by the second job are then reminded by the third (14, 7 and 1 days before the end).

Writes var/bench/jobs-<date>.json: for each job its rows, seconds, rows/s, queries and batches.
"""

import argparse
import datetime
import os
import time

from portal.bench import report as bench_report


def load_data_day(seed: int) -> datetime.date | None:
    """The ``today`` the load data was generated for: its DNS zones' serials are ``YYYYMMDD01``."""
    from services.models import DnsZone

    serial = DnsZone.objects.filter(name__endswith=f"-s{seed}.example").values_list("serial", flat=True).first()
    return datetime.datetime.strptime(str(serial)[:8], "%Y%m%d").date() if serial else None


def rows_of(counts: dict) -> int:
    """Items a job handled: every outcome counts one item, except the invoices, which group renewals."""
    return sum(n for outcome, n in counts.items() if outcome != "invoices issued")


class QueryCounter:
    """Counts the statements sent to the database (``connection.execute_wrapper``), however many."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def measure(name: str, job) -> dict:
    from django.db import connection

    queries = QueryCounter()
    with connection.execute_wrapper(queries):
        started = time.perf_counter()
        run = job()
        seconds = time.perf_counter() - started
    rows = rows_of(run.counts)
    result = {
        "rows": rows, "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds, 1) if seconds else None,
        "queries": queries.count, "batches": getattr(run, "batches", None), "counts": dict(run.counts),
        "errors": len(run.errors),
    }  # fmt: skip
    print(
        f"{name:34} {rows:7d} rows {seconds:8.2f} s {result['rows_per_second'] or 0:9.1f} rows/s "
        f"{queries.count:7d} queries {result['batches'] or '-'} batches"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1, help="The load data's seed (default 1).")
    parser.add_argument("--date", help="Run the jobs for this day (default: the day the load data was made for).")
    parser.add_argument("--out", default="var/bench")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from services import notices, renewals

    if connection.vendor == "postgresql":  # the planner's statistics, as autovacuum would have them by night
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    today = datetime.date.fromisoformat(args.date) if args.date else load_data_day(args.seed) or timezone.localdate()
    now = timezone.make_aware(datetime.datetime.combine(today, datetime.time(2, 0)))
    jobs = [
        ("send_certificate_expiry_notices", lambda: notices.send_certificate_expiry_notices(today=today, now=now)),
        ("issue_renewal_invoices", lambda: renewals.issue_renewal_invoices(today=today, now=now)),
        ("expire_unpaid", lambda: renewals.expire_unpaid(today=today, now=now)),
    ]
    print(f"Jobs for {today} (rolled back at the end):")
    results = {}
    with transaction.atomic():
        for name, job in jobs:
            results[name] = measure(name, job)
        transaction.set_rollback(True)

    report = {
        **bench_report.header(),
        "jobs_for": today.isoformat(),
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "batch_size": getattr(settings, "JOBS_BATCH_SIZE", None),
        "how": "dry_run=False inside one transaction rolled back at the end; e-mails rendered, never sent",
        "results": results,
    }  # fmt: skip
    bench_report.write(report, out=args.out, kind="jobs")


if __name__ == "__main__":
    main()
