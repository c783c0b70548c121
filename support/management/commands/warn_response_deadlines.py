import datetime

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.management.base import PortalCommand
from support import deadlines


def parse_instant(value: str) -> datetime.datetime:
    """An ISO 8601 date-time; without an offset it is read in the portal's time zone (Europe/Brussels)."""
    try:
        instant = datetime.datetime.fromisoformat(value)
    except ValueError as error:
        raise CommandError(
            _("--now must be an ISO date-time such as 2026-11-27T16:30, not “%(value)s”.") % {"value": value}
        ) from error
    return timezone.make_aware(instant) if timezone.is_naive(instant) else instant


class Command(PortalCommand):
    help = (
        "Warn staff by e-mail when an unanswered ticket has less than one working hour left before its response "
        "deadline, and when the deadline has passed: once per ticket and deadline, also when run twice."
    )
    example = "python manage.py warn_response_deadlines --dry-run --now 2026-11-27T16:30"

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would be sent; send and record nothing."
        )
        parser.add_argument(
            "--now", type=str, help="Act as if it were this instant (ISO 8601, default: now), e.g. 2026-11-27T16:30."
        )

    def handle(self, *args, dry_run: bool, now: str | None, verbosity: int, **options):
        instant = parse_instant(now) if now else timezone.now()
        if dry_run and verbosity >= 2:
            for ticket in deadlines.pending_warnings(instant):
                self.stdout.write(f"{ticket.number}: {ticket.warning_level}")
        counts = deadlines.warn_response_deadlines(now=instant, dry_run=dry_run)
        numbers = {"at_risk": counts[deadlines.AT_RISK], "breached": counts[deadlines.BREACHED]}
        if dry_run:
            self.stdout.write(
                _(
                    "Dry run: %(at_risk)d at-risk and %(breached)d breached warning(s) would be sent; "
                    "nothing was sent or recorded."
                )
                % numbers
            )
        else:
            numbers["already_sent"] = counts["already_sent"]
            self.stdout.write(
                self.style.SUCCESS(
                    _(
                        "Sent %(at_risk)d at-risk and %(breached)d breached warning(s); "
                        "%(already_sent)d already sent by another run."
                    )
                    % numbers
                )
            )
