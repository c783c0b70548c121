from services import renewals
from services.management.commands._job import JobCommand


class Command(JobCommand):
    help = (
        "Remind customers of unpaid renewal invoices (RENEWAL_REMINDER_DAYS before the end), then expire the "
        "services whose period ended unpaid: hosting suspended with its add-ons, domain released."
    )
    example = "python manage.py expire_unpaid --dry-run --date 2026-11-27"

    def run_job(self, *, today, now, dry_run):
        return renewals.expire_unpaid(today=today, now=now, dry_run=dry_run)
