from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from services import renewals
from services.management.commands._job import instant_of, parse_date


class Command(BaseCommand):
    help = (
        "For ops: what each renewal and notice job would do today (or on --date), from a dry run of each; "
        "nothing is changed or sent.\n"
        "Example: python manage.py renewals_status --date 2026-11-27"
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="As on this day (YYYY-MM-DD; default: today in Brussels).")

    def handle(self, *args, date: str | None, **options):
        day = parse_date(date)
        self.stdout.write(_("What the jobs would do on %(date)s:") % {"date": day.isoformat()})
        for _name, job in renewals.jobs_for(today=day, now=instant_of(day)):
            run = job(True)
            self.stdout.write("  " + run.summary())
            for error in run.errors:
                self.stdout.write("    ! " + error)
