"""Shared hosting in the admin: staff record usage and backups for the built-in (manual) platform
backend, and the managed-CMS updates the customer is asked to check (art. 3.2.2).

Adding goes through services.hosting, as the commands do; recorded rows are not edited.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal.admin_site import CustomerFilter, linked_customer
from services import hosting
from services.models import Backup, CmsUpdate, HostingUsage, Kind, Service


def _adopt(obj, created) -> None:
    """The admin logs and redirects with the object it built: give it the saved row's identity."""
    obj.pk, obj._state = created.pk, created._state
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(created, field.attname))


class RecordOnlyAdmin(admin.ModelAdmin):
    """Rows are added (through the hosting functions) and read, never edited."""

    customer_link = linked_customer("service__customer")
    list_filter = [CustomerFilter]
    autocomplete_fields = ["service"]  # the suggestions follow service_queryset (NarrowedAutocompleteJsonView)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def _services(self, kind: str, statuses=None):
        services = Service.objects.filter(plan__kind=kind).select_related("plan", "customer")
        return services.filter(status__in=statuses) if statuses else services

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "service":
            kwargs["queryset"] = self.service_queryset()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def service_queryset(self):
        return self._services(Kind.SHARED_HOSTING)


@admin.register(HostingUsage)
class HostingUsageAdmin(RecordOnlyAdmin):
    list_display = ["service", "customer_link", "measured_at", "disk_mb", "traffic_mb", "recorded_by"]
    list_select_related = ["service__plan", "service__customer", "recorded_by"]
    search_fields = ["service__name", "service__customer__name"]
    date_hierarchy = "measured_at"
    fields = ["service", "measured_at", "disk_mb", "traffic_mb", "recorded_by"]
    readonly_fields = ["recorded_by"]

    def save_model(self, request, obj: HostingUsage, form, change: bool) -> None:
        if change:
            raise PermissionDenied
        data = form.cleaned_data
        _adopt(obj, hosting.record_usage(
            service=data["service"], disk_mb=data["disk_mb"], traffic_mb=data["traffic_mb"],
            measured_at=data["measured_at"], by=request.user,
        ))  # fmt: skip


@admin.register(Backup)
class BackupAdmin(RecordOnlyAdmin):
    """Delete a backup here when the platform no longer keeps it."""

    list_display = ["reference", "service", "customer_link", "taken_at", "size_mb"]
    list_select_related = ["service__plan", "service__customer"]
    search_fields = ["reference", "service__name", "service__customer__name"]
    date_hierarchy = "taken_at"
    fields = ["service", "reference", "taken_at", "size_mb"]

    def save_model(self, request, obj: Backup, form, change: bool) -> None:
        if change:
            raise PermissionDenied
        data = form.cleaned_data
        backup, _created = hosting.record_backup(
            service=data["service"], reference=data["reference"], taken_at=data["taken_at"], size_mb=data["size_mb"]
        )
        _adopt(obj, backup)


@admin.register(CmsUpdate)
class CmsUpdateAdmin(RecordOnlyAdmin):
    """Adding an update e-mails the customer and asks them to check the site (art. 3.2.2)."""

    list_display = [
        "service",
        "customer_link",
        "applied_at",
        "status",
        "recorded_by",
        "answered_by",
        "answered_at",
        "ticket",
    ]
    list_filter = [CustomerFilter, "status"]
    list_select_related = ["service__plan", "service__customer", "recorded_by", "answered_by", "problem_ticket"]
    search_fields = ["service__name", "service__customer__name", "description"]
    date_hierarchy = "applied_at"
    add_fields = ["service", "description"]
    readonly_fields = ["applied_at", "recorded_by", "status", "answered_by", "answered_at", "ticket"]

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else ["service", "description", *self.readonly_fields]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the customer's answer and its ticket stay on record

    def service_queryset(self):
        return self._services(Kind.MANAGED_CMS, [Service.Status.ACTIVE, Service.Status.SUSPENDED])

    @admin.display(description=_("problem ticket"))
    def ticket(self, update: CmsUpdate) -> str:
        if not update.problem_ticket_id:
            return "—"
        url = reverse("admin:support_ticket_change", args=[update.problem_ticket_id])
        return format_html('<a href="{}">{}</a>', url, update.problem_ticket.number)

    def save_model(self, request, obj: CmsUpdate, form, change: bool) -> None:
        if change:
            raise PermissionDenied
        data = form.cleaned_data
        _adopt(
            obj, hosting.record_cms_update(service=data["service"], description=data["description"], by=request.user)
        )
