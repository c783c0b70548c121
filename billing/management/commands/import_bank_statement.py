from pathlib import Path

from django.core.management.base import CommandError

from billing.bank_statements import StatementError, import_statement
from portal.management.base import PortalCommand


class Command(PortalCommand):
    help = (
        "Import an ISO 20022 camt.053 bank statement: match credit transfers to invoices by their "
        "structured communication and record the payments. Safe to run twice on the same file."
    )
    example = "python manage.py import_bank_statement statements/2026-11-27.xml --dry-run"

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the camt.053 XML file.")
        parser.add_argument("--dry-run", action="store_true", help="Report what would be recorded; record nothing.")

    def handle(self, *args, file: str, dry_run: bool, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            report = import_statement(path.read_bytes(), dry_run=dry_run)
        except StatementError as error:
            raise CommandError(f"{path}: {error}") from error
        for number in report.paid:
            self.stdout.write(f"paid: {number}")
        for line in report.partial:
            self.stdout.write(f"partial: {line}")
        for line in report.unmatched:
            self.stdout.write(f"unmatched: {line}")
        prefix = "Dry run: " if dry_run else ""
        self.stdout.write(self.style.SUCCESS(f"{prefix}{report.summary()}."))
