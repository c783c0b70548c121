from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.management.base import PortalCommand
from support import reports


class Command(PortalCommand):
    help = (
        "Print the response-time report of a month (art. 7.6) per request kind and priority: tickets, responded "
        "in time, breached, share met, median and 90th percentile response time in working hours."
    )
    example = "python manage.py sla_report --month 2026-11 --csv > sla-2026-11.csv"

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="The month the tickets were logged in, e.g. 2026-11.")
        parser.add_argument("--csv", action="store_true", help="Write CSV (with a header row) instead of a table.")

    def handle(self, *args, month: str, csv: bool, **options):
        try:
            year, number = reports.parse_month(month)
        except ValueError:
            raise CommandError(
                _("--month must be a year and a month such as 2026-11, not “%(value)s”.") % {"value": month}
            ) from None
        lines = reports.sla_report(year=year, month=number, now=timezone.now())
        if csv:
            self.stdout.write(reports.as_csv(lines), ending="")
        else:
            self.stdout.write(reports.as_table(lines, year=year, month=number), ending="")
        if options["verbosity"] > 0:  # stdout is the report (often redirected): the summary goes to stderr
            total = lines[-1]
            self.stderr.write(
                _("%(month)s: %(tickets)d tickets, %(in_time)d responded in time, %(breached)d breached.")
                % {"month": month, "tickets": total.tickets, "in_time": total.in_time, "breached": total.breached}
            )
