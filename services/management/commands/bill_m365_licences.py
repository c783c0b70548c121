from services import renewals
from services.management.commands._job import JobCommand


class Command(JobCommand):
    help = (
        "Bill the month of --date for each active Microsoft 365 pack: the licences and unit price in force "
        "on the month's first day, once per pack and month; end packs left without licences (art. 6.3.3)."
    )
    example = "python manage.py bill_m365_licences --dry-run --date 2026-12-01"

    def run_job(self, *, today, now, dry_run):
        return renewals.bill_m365_licences(today=today, now=now, dry_run=dry_run)
