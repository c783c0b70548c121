"""What the renewal and notice commands share: --date, --dry-run and the run's one-line summary."""

import datetime
from collections.abc import Callable

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.management.base import PortalCommand
from services.jobs import Run


def parse_date(value: str | None) -> datetime.date:
    if not value:
        return timezone.localdate()
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(_("--date must be a date such as 2026-11-27, not “%(value)s”.") % {"value": value}) from None


def instant_of(day: datetime.date) -> datetime.datetime:
    """Now, or noon in Brussels on another day: a job run "for" a date acts as on that day."""
    if day == timezone.localdate():
        return timezone.now()
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


class JobCommand(PortalCommand):
    """Run one job for --date (default: today, Brussels), or only count what it would do (--dry-run)."""

    job: Callable[..., Run]

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Act as on this day (YYYY-MM-DD; default: today in Brussels).")
        parser.add_argument("--dry-run", action="store_true", help="Count what would be done; change nothing.")

    def handle(self, *args, date: str | None, dry_run: bool, **options):
        day = parse_date(date)
        run = self.run_job(today=day, now=instant_of(day), dry_run=dry_run)
        self.stdout.write(run.summary())
        if run.errors:  # the other items were done; say which failed and exit non-zero for ops and cron
            self.stderr.write("\n".join(run.errors))
            raise CommandError(f"{len(run.errors)} item(s) failed; see the errors above and the job run in the admin.")

    def run_job(self, *, today: datetime.date, now: datetime.datetime, dry_run: bool) -> Run:
        raise NotImplementedError
