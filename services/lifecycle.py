"""A service's life: its creation, status changes and periods, each kept in its history.

Every status change goes through ``set_status`` (staff in the admin, orders, renewals), or
``stop_many`` for a batch of the expiry job, so the history is complete and add-ons follow their
shared hosting (art. 3.2.3, 3.3.2).
"""

import datetime
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AuditEvent, User
from portal import audit
from services.models import ADDON_KINDS, Kind, Service, ServiceEvent

# An add-on is bought only "if and as long as" the shared hosting is (art. 3.2.3, 3.3.2): when the
# hosting stops being active for any of these reasons, its add-ons end.
HOSTING_STOPS = {Service.Status.SUSPENDED, Service.Status.EXPIRED, Service.Status.ENDED}
FINISHED = {Service.Status.EXPIRED, Service.Status.ENDED}


def _record(
    service: Service, field: str, old: object, new: object, by: User | None, now: datetime.datetime
) -> ServiceEvent:
    return ServiceEvent.objects.create(
        service=service, actor=by if by is not None and by.pk else None, field=field,
        old_value=str(old)[:200], new_value=str(new)[:200], created_at=now,
    )  # fmt: skip


def created(service: Service, by: User | None, *, now: datetime.datetime | None = None) -> ServiceEvent:
    """The first line of the service's history: its plan and the status it starts with."""
    new = f"{service.plan.name} ({service.get_status_display()})"
    return _record(service, ServiceEvent.Field.CREATED, "", new, by, now or timezone.now())


def check_status(*, service: Service, status: str) -> None:
    """Raise ``ValidationError`` when ``service`` may not take ``status``."""
    if status not in Service.Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    if status == Service.Status.ACTIVE and service.plan.kind in ADDON_KINDS:
        parent = service.parent
        if parent is None or not parent.is_active:
            raise ValidationError(
                {"status": _("An add-on can only be active while its shared hosting is active (art. 3.2.3, 3.3.2).")}
            )


@transaction.atomic
def set_status(*, service: Service, status: str, by: User | None, now: datetime.datetime | None = None) -> Service:
    """Change the status, keep the change in the history and the audit log; when a shared hosting
    stops (suspended, expired, ended), its add-ons end with it, each with its own history."""
    now = now or timezone.now()
    locked = (
        Service.objects.select_for_update(of=("self",)).select_related("plan", "parent", "customer").get(pk=service.pk)
    )
    service.status = locked.status
    if locked.status == status:
        return service
    check_status(service=locked, status=status)
    old_label = locked.get_status_display()
    Service.objects.filter(pk=locked.pk).update(status=status)
    service.status = locked.status = status
    new_label = locked.get_status_display()
    _record(locked, ServiceEvent.Field.STATUS, old_label, new_label, by, now)
    audit.record("service.status_changed", actor=by, customer=locked.customer, obj=locked, old=old_label, new=new_label)
    if locked.plan.kind == Kind.SHARED_HOSTING and status in HOSTING_STOPS:
        for addon in locked.addons.exclude(status__in=FINISHED):
            set_status(service=addon, status=Service.Status.ENDED, by=by, now=now)
            note = _("Ended with its shared hosting %(name)s (art. 3.2.3, 3.3.2).") % {"name": locked.name}
            _record(addon, ServiceEvent.Field.NOTE, "", note, by, now)
    return service


def stop_many(*, changes: Sequence[tuple[Service, str]], by: User | None, now: datetime.datetime | None = None) -> None:
    """``set_status`` for many services at once, to statuses that stop them (suspended, expired,
    ended), in a fixed number of queries however many services: the jobs stop a batch at once.

    The caller has locked the services (``select_for_update``) and loaded them with their plan and
    customer. As with ``set_status``: each change is kept in the history and the audit log, and the
    add-ons of a shared hosting that stops end with it, each with its own history (an add-on listed
    in ``changes`` whose hosting stops here too ends with it)."""
    now = now or timezone.now()
    actor = by if by is not None and by.pk else None
    if any(status not in HOSTING_STOPS for _service, status in changes):
        raise ValueError("stop_many only stops services: use set_status.")
    changes = [(service, status) for service, status in changes if service.status != status]
    stopping = {service.pk: service for service, _status in changes if service.plan.kind == Kind.SHARED_HOSTING}
    changes = [(service, status) for service, status in changes if service.parent_id not in stopping]
    addons = list(
        Service.objects.select_for_update(of=("self",))
        .select_related("plan", "customer")
        .filter(parent__in=list(stopping))
        .exclude(status__in=FINISHED)
        .order_by("pk")
    )
    changes += [(addon, Service.Status.ENDED) for addon in addons]
    for status in {status for _service, status in changes}:
        Service.objects.filter(pk__in=[service.pk for service, s in changes if s == status]).update(status=status)
    events, audits = [], []
    for service, status in changes:
        old_label = service.get_status_display()
        service.status = status
        new_label = service.get_status_display()
        events.append(ServiceEvent(
            service=service, actor=actor, field=ServiceEvent.Field.STATUS, old_value=str(old_label)[:200],
            new_value=str(new_label)[:200], created_at=now,
        ))  # fmt: skip
        audits.append(audit.unsaved(
            "service.status_changed", actor=by, customer=service.customer, obj=service, old=old_label, new=new_label
        ))  # fmt: skip
    for addon in addons:
        hosting = stopping[addon.parent_id]
        note = _("Ended with its shared hosting %(name)s (art. 3.2.3, 3.3.2).") % {"name": hosting.name}
        events.append(ServiceEvent(service=addon, actor=actor, field=ServiceEvent.Field.NOTE, new_value=note[:200],
                                   created_at=now))  # fmt: skip
    ServiceEvent.objects.bulk_create(events)
    AuditEvent.objects.bulk_create(audits)


def record_period(
    *,
    service: Service,
    start: datetime.date,
    end: datetime.date | None,
    by: User | None,
    now: datetime.datetime | None = None,
) -> ServiceEvent:
    """Keep in the history that the service runs from ``start`` to ``end`` (None: indefinitely).
    The caller sets ``current_period_end``; this only records it."""
    if end is not None and end <= start:
        raise ValidationError({"current_period_end": _("A period ends after it starts.")})
    period = f"{start.isoformat()} → {end.isoformat() if end else _('indefinite')}"
    return _record(service, ServiceEvent.Field.PERIOD, "", period, by, now or timezone.now())
