from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from portal.management.base import PortalCommand
from services import renewals
from services.management.commands._job import instant_of, parse_date


class Command(PortalCommand):
    help = (
        "For ops: what each renewal and notice job would do today (or on --date), from a dry run of each; "
        "nothing is changed or sent."
    )
    example = "python manage.py renewals_status --date 2026-11-27"
    shows_progress = True  # each dry run reads every due item: seconds on a big database

    def add_arguments(self, parser):
        parser.add_argument("--date", help="As on this day (YYYY-MM-DD; default: today in Brussels).")

    def handle(self, *args, date: str | None, **options):
        day = parse_date(date)
        jobs = renewals.jobs_for(today=day, now=instant_of(day))
        runs = []
        with self.progress(total=len(jobs), desc="jobs", unit="job") as bar:
            for name, job in jobs:
                bar.set_postfix_str(name)
                runs.append((name, job(True)))
                bar.update()
        # Printed once the bar is gone: lines written under a live bar would be drawn over.
        self.stdout.write(_("What the jobs would do on %(date)s:") % {"date": day.isoformat()})
        for _name, run in runs:
            self.stdout.write("  " + run.summary())
            for error in run.errors:
                self.stdout.write("    ! " + error)
        failing = [name for name, run in runs if run.errors]
        if failing:  # the real run would fail on these items too: non-zero for ops and monitoring
            raise CommandError(
                _("%(count)d job(s) would fail on some items: %(jobs)s.")
                % {"count": len(failing), "jobs": ", ".join(failing)}
            )
