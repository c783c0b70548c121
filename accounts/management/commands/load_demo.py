from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from accounts import demo
from portal.management.base import PortalCommand


class Command(PortalCommand):
    help = "Create the demo customers, people, plans and services; a second run leaves them as they are."
    example = "python manage.py load_demo --password 'a-long-password'"

    def add_arguments(self, parser):
        parser.add_argument("--password", default=demo.DEFAULT_PASSWORD, help="Password of the demo logins.")
        parser.add_argument(
            "--force", action="store_true", help="Run even with DJANGO_DEBUG off (never in production)."
        )

    def handle(self, *args, password: str, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to load demo data with DJANGO_DEBUG off. Use --force if you really mean it.")
        created = demo.load(password=password, now=timezone.now())
        summary = ", ".join(f"{n} {what}" for what, n in created.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data ready (created: {summary})."))
