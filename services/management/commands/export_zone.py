from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from services import dns
from services.models import DnsZone


class Command(BaseCommand):
    help = (
        "Print the zone file of a domain hosted on our nameservers (SOA, our NS records, then the records), "
        "as named-checkzone reads it.\n"
        "Example: python manage.py export_zone acme.be > acme.be.zone"
    )

    def add_arguments(self, parser):
        parser.add_argument("domain", help="The zone, e.g. acme.be (an IDN may be written in Unicode).")

    def handle(self, *args, domain: str, **options):
        try:
            text = dns.zone_text(domain)
        except (DnsZone.DoesNotExist, ValidationError):
            raise CommandError(_("No zone %(domain)s is hosted on our nameservers.") % {"domain": domain}) from None
        self.stdout.write(text, ending="")
