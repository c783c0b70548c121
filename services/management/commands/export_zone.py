from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from portal.management.base import PortalCommand
from services import dns
from services.models import DnsZone


class Command(PortalCommand):
    help = (
        "Print the zone file of a domain hosted on our nameservers (SOA, our NS records, then the records), "
        "as named-checkzone reads it."
    )
    example = "python manage.py export_zone acme.be > acme.be.zone"

    def add_arguments(self, parser):
        parser.add_argument("domain", help="The zone, e.g. acme.be (an IDN may be written in Unicode).")

    def handle(self, *args, domain: str, **options):
        try:
            text = dns.zone_text(domain)
        except (DnsZone.DoesNotExist, ValidationError):
            raise CommandError(_("No zone %(domain)s is hosted on our nameservers.") % {"domain": domain}) from None
        self.stdout.write(text, ending="")
        if options["verbosity"] > 0:  # stdout is the zone file: the summary goes to stderr
            records = sum(1 for line in text.splitlines() if line and not line.startswith((";", "$")))
            self.stderr.write(_("%(domain)s: %(count)d records exported.") % {"domain": domain, "count": records})
