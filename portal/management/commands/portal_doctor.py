import json

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from portal import doctor
from portal.management.base import PortalCommand


class Command(PortalCommand):
    help = (
        "Check this installation: configuration (DEBUG, SECRET_KEY, ALLOWED_HOSTS, e-mail, Django's deployment "
        "checks), the database, pending migrations, Redis, a Celery worker and the last run of each nightly job. "
        "Each line is OK, or FAIL with what to fix; exits 1 when any check fails. Changes nothing."
    )
    example = "python manage.py portal_doctor --timeout 5 --json"
    # The doctor reports failing system checks itself instead of refusing to start on them.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print the checks as a JSON list, for machines."
        )
        parser.add_argument(
            "--timeout", type=float, default=1.0, help="Seconds to wait for Redis and for the workers' answers (1)."
        )

    def handle(self, *args, as_json: bool, timeout: float, **options):
        results = doctor.diagnose(timeout=timeout)
        failed = [check for check in results if not check.ok]
        if as_json:
            self.stdout.write(json.dumps([check.as_dict() for check in results], indent=2, ensure_ascii=False))
        else:
            for check in results:
                if check.ok:
                    self.stdout.write(f"{self.style.SUCCESS('OK  ')}{check.name}: {check.detail}")
                else:
                    self.stdout.write(f"{self.style.ERROR('FAIL')} {check.name}: {check.detail} — fix: {check.fix}")
        if failed:
            raise CommandError(
                _("%(failed)d of %(total)d checks failed: %(names)s.")
                % {"failed": len(failed), "total": len(results), "names": ", ".join(c.name for c in failed)}
            )
        if not as_json:
            self.stdout.write(_("All %(total)d checks passed.") % {"total": len(results)})
