import json

from django.conf import settings
from django.core.management.base import CommandError

from portal.management.base import PortalCommand
from portal.soak.prepare import prepare


class Command(PortalCommand):
    help = "For `make soak` only: create the soak customers and write what the driver needs as JSON."
    example = "python manage.py soak_prepare --force --customers 50 --output var/soak/customers.json"

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=50, help="Soak customers to create or find (50).")
        parser.add_argument("--output", required=True, help="JSON file for the driver.")
        parser.add_argument(
            "--force", action="store_true", help="Run even with DJANGO_DEBUG off (never in production)."
        )

    def handle(self, *args, customers: int, output: str, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to create soak data with DJANGO_DEBUG off. Use --force on a soak database.")
        rows = prepare(customers=customers)
        with open(output, "w") as file:
            json.dump(rows, file, indent=1)
        self.stdout.write(self.style.SUCCESS(f"{len(rows)} soak customers ready ({output})."))
