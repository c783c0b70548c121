from services import notices
from services.management.commands._job import JobCommand


class Command(JobCommand):
    help = (
        "E-mail the owners and technical members of each customer whose certificate expires in "
        "CERTIFICATE_NOTICE_DAYS days, once per certificate and threshold (art. 5.2.2)."
    )
    example = "python manage.py send_certificate_expiry_notices --dry-run --date 2026-11-27"

    def run_job(self, *, today, now, dry_run):
        return notices.send_certificate_expiry_notices(today=today, now=now, dry_run=dry_run)
