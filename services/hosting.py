"""Shared hosting (art. 3): usage against the plan's limits, backups and their restoration,
managed-CMS updates the customer checks, and the reminder before a hosting contract ends.

Views, the admin and the ops commands call these functions; none of them writes these rows itself.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.roles import PERMISSIONS, Permission
from portal import audit, mail
from services import hosting_platform
from services.models import Backup, CmsUpdate, HostingUsage, Kind, Service
from support import tickets
from support.models import InterventionType, Priority, Ticket

RESTORE_REASON = "hosting-restore-backup"  # annex 1: "Restauration de fichiers à partir d'une sauvegarde"
CMS_PROBLEM_REASON = "hosting-site-down"  # annex 1: "Site web non accessible", an incident
WARNING_RATIO = Decimal("0.9")  # a gauge warns from 90 % of the plan's limit
MB_PER_GB = 1024


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


def _check_kind(service: Service, kind: str, message: str) -> None:
    if service.plan.kind != kind:
        raise ValidationError({"service": message})


# Usage against the plan's limits (art. 3.1.4)


@dataclass(frozen=True)
class Gauge:
    """One limit of the plan against the latest reading: disk space or monthly traffic."""

    key: str
    label: str
    used_mb: int
    limit_mb: int | None

    @property
    def ratio(self) -> Decimal | None:
        return Decimal(self.used_mb) / self.limit_mb if self.limit_mb else None

    @property
    def percent(self) -> int | None:
        return int(self.ratio * 100) if self.ratio is not None else None

    @property
    def is_near_limit(self) -> bool:
        return self.ratio is not None and self.ratio >= WARNING_RATIO

    @property
    def is_over_limit(self) -> bool:
        return self.ratio is not None and self.ratio > 1

    @property
    def warning_mb(self) -> int | None:
        return int(self.limit_mb * WARNING_RATIO) if self.limit_mb else None

    @property
    def used_bytes(self) -> int:
        return self.used_mb * 1024 * 1024  # for the filesizeformat filter

    @property
    def limit_bytes(self) -> int | None:
        return self.limit_mb * 1024 * 1024 if self.limit_mb else None


GAUGES = [
    ("disk_gb", "disk_mb", gettext_lazy("Disk space")),
    ("traffic_gb", "traffic_mb", gettext_lazy("Traffic this month")),
]


def _limit_mb(specifications: dict, key: str) -> int | None:
    try:
        gigabytes = Decimal(str(specifications.get(key)))
    except (InvalidOperation, TypeError, ValueError):
        return None
    return int(gigabytes * MB_PER_GB) if gigabytes.is_finite() and gigabytes > 0 else None


def usage_gauges(service: Service, usage: hosting_platform.Usage | None) -> list[Gauge]:
    """Disk and traffic of the latest reading against the plan's disk_gb and traffic_gb (1 GB = 1024 MB)."""
    if usage is None:
        return []
    specifications = service.plan.specifications or {}
    return [
        Gauge(key=used, label=str(label), used_mb=getattr(usage, used), limit_mb=_limit_mb(specifications, limit))
        for limit, used, label in GAUGES
    ]


@transaction.atomic
def record_usage(
    *, service: Service, disk_mb: int, traffic_mb: int, measured_at: datetime.datetime | None = None,
    by: User | None = None,
) -> HostingUsage:  # fmt: skip
    """What the platform measured (built-in backend: staff or `record_hosting_usage` record it).

    Not audited: readings are machine data, kept as rows with who recorded them.
    """
    _check_kind(service, Kind.SHARED_HOSTING, _("Usage is recorded for a shared hosting only."))
    if disk_mb < 0 or traffic_mb < 0:
        raise ValidationError(_("Disk and traffic are zero or more megabytes."))
    return HostingUsage.objects.create(
        service=service, measured_at=_now(measured_at), disk_mb=disk_mb, traffic_mb=traffic_mb, recorded_by=by
    )


# Backups (art. 3.1.5)


def backup_cutoff(now: datetime.datetime | None = None) -> datetime.datetime:
    """Backups taken since this instant are listed: at least the last BACKUP_RETENTION_DAYS days."""
    return _now(now) - datetime.timedelta(days=settings.BACKUP_RETENTION_DAYS)


def recent_backups(service: Service, *, now: datetime.datetime | None = None) -> list[hosting_platform.Backup]:
    return hosting_platform.get_platform().backups(service, backup_cutoff(now))


def find_backup(service: Service, reference: str, *, now: datetime.datetime | None = None) -> hosting_platform.Backup:
    """The listed backup named ``reference``; a ValidationError when it is not (or no longer) offered."""
    for backup in recent_backups(service, now=now):
        if backup.reference == reference:
            return backup
    raise ValidationError({"backup": _("Choose one of the backups listed on the hosting page.")})


@transaction.atomic
def record_backup(
    *, service: Service, reference: str, taken_at: datetime.datetime, size_mb: int = 0,
) -> tuple[Backup, bool]:  # fmt: skip
    """A backup the platform took (built-in backend: staff or `record_backup` record it).

    Safe to run twice: the same reference again changes nothing and answers ``created=False``.
    """
    _check_kind(service, Kind.SHARED_HOSTING, _("Backups are recorded for a shared hosting only."))
    reference = reference.strip()
    if not reference or len(reference) > 100:
        raise ValidationError({"reference": _("Give the platform's name of the backup (at most 100 characters).")})
    if timezone.is_naive(taken_at):
        raise ValidationError({"taken_at": _("Give the time the backup was taken with its time zone.")})
    if size_mb < 0:
        raise ValidationError({"size_mb": _("The size is zero or more megabytes.")})
    backup, created = Backup.objects.get_or_create(
        service=service, reference=reference, defaults={"taken_at": taken_at, "size_mb": size_mb}
    )
    if not created and (backup.taken_at, backup.size_mb) != (taken_at, size_mb):
        raise ValidationError(
            {"reference": _("A backup %(reference)s is already recorded with another date or size.") % {
                "reference": reference}}
        )  # fmt: skip
    return backup, created


def restore_reason() -> InterventionType:
    return InterventionType.objects.get(code=RESTORE_REASON)


@transaction.atomic
def request_restore(
    *, service: Service, reference: str, priority: str, by: User, note: str = "", request=None,
    now: datetime.datetime | None = None,
) -> Ticket:  # fmt: skip
    """Art. 3.1.5: ask for a backup to be restored; opens a change-request ticket of the annex-1 reason
    "Restauration de fichiers à partir d'une sauvegarde", paid in credits per started 15 minutes."""
    now = _now(now)
    _check_kind(service, Kind.SHARED_HOSTING, _("Backups are restored for a shared hosting only."))
    if not service.is_active:
        raise ValidationError(_("Backups can be restored while the hosting is active only."))
    if priority not in Priority.values:
        raise ValidationError({"priority": _("Choose Standard or Express.")})
    backup = find_backup(service, reference, now=now)
    taken = timezone.localtime(backup.taken_at)
    names = {"reference": backup.reference, "service": service.name}
    description = _(
        "Please restore the files of %(service)s from the backup %(reference)s taken on %(taken)s (%(size)d MB)."
    ) % {**names, "taken": taken.strftime("%Y-%m-%d %H:%M %Z"), "size": backup.size_mb}
    if note.strip():
        description += "\n\n" + note.strip()
    ticket = tickets.open_ticket(
        customer=service.customer, opened_by=by, reason=restore_reason(), priority=priority, service=service,
        subject=(_("Restore the backup %(reference)s of %(service)s") % names)[:200], description=description,
        now=now,
    )  # fmt: skip
    audit.record(
        "hosting.restore_requested", actor=by, customer=service.customer, obj=service, request=request,
        backup=backup.reference, ticket=ticket.number,
    )  # fmt: skip
    return ticket


# The end of a hosting contract (art. 3.5)


ENDING_STATUSES = [Service.Status.ACTIVE, Service.Status.SUSPENDED]


def ending_hostings(services: QuerySet, *, today: datetime.date) -> QuerySet:
    """Art. 3.5: the running shared hostings that will not renew and end within HOSTING_END_REMINDER_DAYS,
    soonest first. Turning automatic renewal off is how a customer ends a hosting contract (art. 3.4.1)."""
    until = today + datetime.timedelta(days=settings.HOSTING_END_REMINDER_DAYS)
    return services.filter(
        plan__kind=Kind.SHARED_HOSTING, status__in=ENDING_STATUSES, auto_renew=False,
        current_period_end__gte=today, current_period_end__lte=until,
    ).order_by("current_period_end", "pk")  # fmt: skip


def is_ending(service: Service, *, today: datetime.date) -> bool:
    """The same test as ``ending_hostings`` for one service."""
    if service.plan.kind != Kind.SHARED_HOSTING or service.current_period_end is None:
        return False
    until = today + datetime.timedelta(days=settings.HOSTING_END_REMINDER_DAYS)
    return service.status in ENDING_STATUSES and not service.auto_renew and today <= service.current_period_end <= until


# Managed CMS updates (art. 3.2.2)


def _cms_recipients(service: Service) -> list[str]:
    """The customer's people who look after its sites: those who may open tickets."""
    roles = PERMISSIONS[Permission.OPEN_TICKETS]
    return sorted(
        set(
            service.customer.memberships.filter(role__in=roles, user__is_active=True).values_list(
                "user__email", flat=True
            )
        )
    )


@transaction.atomic
def record_cms_update(
    *, service: Service, description: str, by: User, now: datetime.datetime | None = None
) -> CmsUpdate:
    """Staff applied an update or a patch to a managed CMS: the customer is asked to check the site."""
    now = _now(now)
    _check_kind(service, Kind.MANAGED_CMS, _("CMS updates are recorded for a managed CMS only."))
    if service.status not in (Service.Status.ACTIVE, Service.Status.SUSPENDED):
        raise ValidationError({"service": _("This managed CMS is not running.")})
    if not description.strip():
        raise ValidationError({"description": _("Describe what was updated.")})
    update = CmsUpdate.objects.create(service=service, applied_at=now, description=description.strip(), recorded_by=by)
    audit.record("cms_update.recorded", actor=by, customer=service.customer, obj=update, service=service.name)
    to = _cms_recipients(service)
    if to:
        mail.send_templated(
            to=to,
            template_prefix="services/email/cms_update",
            context={
                "update": update,
                "service": service,
                "link": settings.PORTAL_BASE_URL + service.get_absolute_url(),
            },
            language=service.customer.preferred_language,
        )
    return update


def _locked_awaiting(update: CmsUpdate) -> CmsUpdate:
    locked = (
        CmsUpdate.objects.select_for_update(of=("self",))
        .select_related("service__customer", "service__plan")
        .get(pk=update.pk)
    )
    if locked.status != CmsUpdate.Status.AWAITING_CHECK:
        raise ValidationError(_("This update was already answered."))
    return locked


@transaction.atomic
def confirm_cms_update(*, update: CmsUpdate, by: User, request=None, now: datetime.datetime | None = None) -> CmsUpdate:
    """The customer checked the site after the update: it works."""
    update = _locked_awaiting(update)
    update.status, update.answered_by, update.answered_at = CmsUpdate.Status.CONFIRMED, by, _now(now)
    update.save(update_fields=["status", "answered_by", "answered_at"])
    audit.record("cms_update.confirmed", actor=by, customer=update.service.customer, obj=update, request=request)
    return update


@transaction.atomic
def report_cms_problem(
    *, update: CmsUpdate, description: str, by: User, priority: str = Priority.STANDARD, request=None,
    now: datetime.datetime | None = None,
) -> Ticket:  # fmt: skip
    """The site has a problem after the update: an incident ticket ("Website not reachable") is opened
    and linked to the update."""
    now = _now(now)
    update = _locked_awaiting(update)
    if not description.strip():
        raise ValidationError({"description": _("Describe the problem you see.")})
    if priority not in Priority.values:
        raise ValidationError({"priority": _("Choose Standard or Express.")})
    service = update.service
    applied = timezone.localtime(update.applied_at).strftime("%Y-%m-%d")
    ticket = tickets.open_ticket(
        customer=service.customer, opened_by=by, reason=InterventionType.objects.get(code=CMS_PROBLEM_REASON),
        priority=priority, service=service,
        subject=(_("Problem after the CMS update of %(date)s on %(service)s") % {
            "date": applied, "service": service.name})[:200],
        description=description.strip() + "\n\n" + _("The update: %(description)s") % {
            "description": update.description},
        now=now,
    )  # fmt: skip
    update.status, update.answered_by, update.answered_at = CmsUpdate.Status.PROBLEM, by, now
    update.problem_ticket = ticket
    update.save(update_fields=["status", "answered_by", "answered_at", "problem_ticket"])
    audit.record(
        "cms_update.problem_reported", actor=by, customer=service.customer, obj=update, request=request,
        ticket=ticket.number,
    )  # fmt: skip
    return ticket
