import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from portal.management.base import PortalCommand
from services import hosting
from services.models import Kind, Service


def parse_instant(value: str, option: str) -> datetime.datetime:
    """An ISO 8601 date-time; without an offset it is read in the portal's time zone (Europe/Brussels)."""
    try:
        instant = datetime.datetime.fromisoformat(value)
    except ValueError as error:
        raise CommandError(
            f"{option} must be an ISO date-time such as 2026-11-27T03:00+01:00, not {value!r}."
        ) from error
    return timezone.make_aware(instant) if timezone.is_naive(instant) else instant


def shared_hosting(pk: int) -> Service:
    service = Service.objects.select_related("plan").filter(pk=pk).first()
    if service is None:
        raise CommandError(f"No service with id {pk}.")
    if service.plan.kind != Kind.SHARED_HOSTING:
        raise CommandError(f"Service {pk} ({service.name}) is not a shared hosting.")
    return service


class Command(PortalCommand):
    help = (
        "Record a backup the hosting platform took of a shared hosting (the built-in platform backend lists "
        "what is recorded here; art. 3.1.5). Safe to run twice with the same reference."
    )
    example = (
        "python manage.py record_backup --service 12 --reference daily-2026-11-27 "
        "--taken-at 2026-11-27T03:00+01:00 --size-mb 850"
    )

    def add_arguments(self, parser):
        parser.add_argument("--service", type=int, required=True, help="The id of the shared hosting service.")
        parser.add_argument("--reference", required=True, help="The platform's name of the backup.")
        parser.add_argument(
            "--taken-at", required=True, help="When it was taken (ISO 8601), e.g. 2026-11-27T03:00+01:00."
        )
        parser.add_argument("--size-mb", type=int, default=0, help="Its size in MB.")
        parser.add_argument("--dry-run", action="store_true", help="Check and report; record nothing.")

    def handle(self, *args, service: int, reference: str, taken_at: str, size_mb: int, dry_run: bool, **options):
        hosting_service = shared_hosting(service)
        with transaction.atomic():
            try:
                backup, created = hosting.record_backup(
                    service=hosting_service, reference=reference, taken_at=parse_instant(taken_at, "--taken-at"),
                    size_mb=size_mb,
                )  # fmt: skip
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
            if dry_run:
                transaction.set_rollback(True)
        if not created:
            self.stdout.write(
                f"Already recorded: backup {backup.reference} of {hosting_service.name}; nothing changed."
            )
        elif dry_run:
            self.stdout.write(f"Dry run: would record backup {backup.reference} of {hosting_service.name}.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Recorded backup {backup.reference} of {hosting_service.name}."))
