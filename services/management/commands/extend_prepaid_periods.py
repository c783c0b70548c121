from services import renewals
from services.management.commands._job import JobCommand


class Command(JobCommand):
    help = (
        "Extend the period of every service whose renewal invoice is paid, from the old end, once; report "
        "renewals paid after the service expired (staff decide in the admin)."
    )
    example = "python manage.py extend_prepaid_periods --dry-run"

    def run_job(self, *, today, now, dry_run):
        return renewals.extend_prepaid_periods(now=now, dry_run=dry_run)
