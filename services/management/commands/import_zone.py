import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from portal.management.base import PortalCommand
from services import dns
from services.models import DnsZone


class Command(PortalCommand):
    help = (
        "Add the records of a zone file to a zone hosted on our nameservers. Every record is validated first: "
        "when one is invalid, nothing is imported. SOA and apex NS records are ours and skipped; records already "
        "in the zone are left as they are."
    )
    example = "python manage.py import_zone acme.be acme.be.zone --dry-run"

    def add_arguments(self, parser):
        parser.add_argument("domain", help="The zone, e.g. acme.be.")
        parser.add_argument("file", help="The zone file ('-' for standard input).")
        parser.add_argument("--dry-run", action="store_true", help="Validate and count, import nothing.")

    def handle(self, *args, domain: str, file: str, dry_run: bool, **options):
        try:
            zone = dns.zone_of(domain)
        except (DnsZone.DoesNotExist, ValidationError):
            raise CommandError(_("No zone %(domain)s is hosted on our nameservers.") % {"domain": domain}) from None
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(_("Cannot read %(file)s: %(error)s") % {"file": file, "error": error}) from None
        try:
            result = dns.import_zone(zone, text, by=None, dry_run=dry_run)
        except ValidationError as error:
            raise CommandError(
                _("Nothing was imported into %(zone)s:\n%(errors)s")
                % {"zone": zone.name, "errors": "\n".join(f"- {message}" for message in error.messages)}
            ) from None
        summary = _(
            "%(zone)s: %(added)d records %(verb)s, %(present)d already present, %(skipped)d SOA/NS of ours "
            "skipped; serial %(serial)d."
        ) % {
            "zone": zone.name,
            "added": result.added,
            "verb": _("would be added (dry run)") if dry_run else _("added"),
            "present": result.already_present,
            "skipped": result.skipped,
            "serial": result.serial,
        }
        self.stdout.write(summary)
