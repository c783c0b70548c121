from services import renewals
from services.management.commands._job import JobCommand


class Command(JobCommand):
    help = (
        "Issue the renewal invoice of each service whose period ends within RENEWAL_INVOICE_DAYS (once per "
        "period), and tell customers who turned automatic renewal off when their service ends."
    )
    example = "python manage.py issue_renewal_invoices --dry-run --date 2026-11-27"

    def run_job(self, *, today, now, dry_run):
        return renewals.issue_renewal_invoices(today=today, now=now, dry_run=dry_run)
