"""The hosting platform interface: what the portal asks the shared-hosting platform.

One small interface, so a backend talking to the real platform (Plesk's API, say) can replace
the built-in one through the ``HOSTING_PLATFORM_BACKEND`` setting (a dotted path). The built-in
``ManualPlatform`` reports only what staff or the ops commands recorded (HostingUsage and Backup
rows): it never invents a reading or a backup.
"""

import datetime
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from services import models

DEFAULT_BACKEND = "services.hosting_platform.ManualPlatform"


@dataclass(frozen=True)
class Usage:
    """Disk used and traffic of the current month, as measured at ``measured_at``."""

    measured_at: datetime.datetime
    disk_mb: int
    traffic_mb: int


@dataclass(frozen=True)
class Backup:
    """A backup the platform keeps; ``reference`` is the platform's name for it."""

    reference: str
    taken_at: datetime.datetime
    size_mb: int


class HostingPlatform(Protocol):
    def usage(self, service: models.Service) -> Usage | None:
        """The latest usage of a shared hosting, or None when nothing was measured yet."""
        ...

    def backups(self, service: models.Service, since: datetime.datetime) -> list[Backup]:
        """The backups taken at or after ``since``, newest first."""
        ...


class ManualPlatform:
    """The built-in backend: the readings and backups staff or the ops commands recorded."""

    def usage(self, service: models.Service) -> Usage | None:
        reading = models.HostingUsage.objects.filter(service=service).order_by("-measured_at", "-pk").first()
        if reading is None:
            return None
        return Usage(measured_at=reading.measured_at, disk_mb=reading.disk_mb, traffic_mb=reading.traffic_mb)

    def backups(self, service: models.Service, since: datetime.datetime) -> list[Backup]:
        rows = models.Backup.objects.filter(service=service, taken_at__gte=since).order_by("-taken_at", "-pk")
        return [
            Backup(reference=reference, taken_at=taken_at, size_mb=size_mb)
            for reference, taken_at, size_mb in rows.values_list("reference", "taken_at", "size_mb")
        ]


@cache
def _backend(path: str) -> HostingPlatform:
    return import_string(path)()


def get_platform() -> HostingPlatform:
    """The configured backend (``HOSTING_PLATFORM_BACKEND``), the manual one by default."""
    return _backend(getattr(settings, "HOSTING_PLATFORM_BACKEND", "") or DEFAULT_BACKEND)
