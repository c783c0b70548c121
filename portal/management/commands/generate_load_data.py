import datetime
import time

from django.conf import settings
from django.core.management.base import CommandError

from portal import load_data
from portal.management.base import PortalCommand

CHUNK = 100  # customers per transaction


class Command(PortalCommand):
    help = "Fill the database with a provider's worth of customers, services, DNS, certificates, tickets and ledger."
    example = "python manage.py generate_load_data --customers 5000 --big-customer --seed 1"
    shows_progress = True

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, required=True, help="Ordinary customers to create.")
        parser.add_argument("--big-customer", action="store_true", help="Also the big customer (300 services …).")
        parser.add_argument("--seed", type=int, default=1, help="Decides every name and value (default 1).")
        parser.add_argument("--date", type=datetime.date.fromisoformat, help="Dates relative to this day (today).")
        parser.add_argument("--password", default=load_data.DEFAULT_PASSWORD, help="Password of every generated user.")
        parser.add_argument(
            "--force", action="store_true", help="Run even with DJANGO_DEBUG off (never in production)."
        )

    def handle(self, *args, customers, big_customer, seed, date, password, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to generate load data with DJANGO_DEBUG off. Use --force if you really mean it."
            )
        started = time.monotonic()
        # generate() reports once per chunk of customers, and once after the big customer.
        steps = -(-customers // CHUNK) + (1 if big_customer else 0)
        with self.progress(total=steps, desc="load data", unit="step") as bar:

            def progress(message: str) -> None:
                if bar.disable:  # no terminal: a line per step, as in the bench log
                    self.stdout.write(f"  {message} ({time.monotonic() - started:.0f} s)")
                else:
                    bar.set_postfix_str(message, refresh=False)
                    bar.update()

            try:
                counts = load_data.generate(
                    customers=customers, big_customer=big_customer, seed=seed, today=date, password=password,
                    chunk=CHUNK, progress=progress,
                )  # fmt: skip
            except ValueError as error:
                raise CommandError(str(error)) from error
        rows = sum(counts.values())
        summary = ", ".join(f"{n} {what}" for what, n in counts.items())
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"Load data ready in {elapsed:.0f} s ({rows} rows: {summary})."))
