from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import transaction

from portal.management.base import PortalCommand
from services import hosting
from services.management.commands.record_backup import parse_instant, shared_hosting


class Command(PortalCommand):
    help = (
        "Record the disk and traffic of a shared hosting as the hosting platform measured them (the built-in "
        "platform backend shows what is recorded here on the hosting page)."
    )
    example = "python manage.py record_hosting_usage --service 12 --disk-mb 5120 --traffic-mb 20480"

    def add_arguments(self, parser):
        parser.add_argument("--service", type=int, required=True, help="The id of the shared hosting service.")
        parser.add_argument("--disk-mb", type=int, required=True, help="Disk space used, in MB.")
        parser.add_argument("--traffic-mb", type=int, required=True, help="Traffic of the current month, in MB.")
        parser.add_argument(
            "--measured-at", help="When it was measured (ISO 8601, default: now), e.g. 2026-11-27T06:00+01:00."
        )
        parser.add_argument("--dry-run", action="store_true", help="Check and report; record nothing.")

    def handle(self, *args, service: int, disk_mb: int, traffic_mb: int, measured_at: str | None, dry_run: bool,
               **options):  # fmt: skip
        hosting_service = shared_hosting(service)
        with transaction.atomic():
            try:
                reading = hosting.record_usage(
                    service=hosting_service, disk_mb=disk_mb, traffic_mb=traffic_mb,
                    measured_at=parse_instant(measured_at, "--measured-at") if measured_at else None,
                )  # fmt: skip
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
            if dry_run:
                transaction.set_rollback(True)
        prefix = "Dry run: would record" if dry_run else "Recorded"
        self.stdout.write(
            self.style.SUCCESS(
                f"{prefix} {disk_mb} MB of disk and {traffic_mb} MB of traffic for {hosting_service.name} "
                f"at {reading.measured_at.isoformat()}."
            )
        )
