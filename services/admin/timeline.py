"""The timeline of a domain or certificate request in the admin: read-only, written by the request's
functions (``services.domains``, ``services.certificates``) as the customer sees it in the portal."""

from django.contrib import admin
from django.db import models
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal.admin_site import ReadOnlyInline
from services.models import TimelineMessage


class TimelineInline(ReadOnlyInline):
    """Subclasses name the ``model``, its request's ``statuses`` and the admin URL of a step's document."""

    fields = ["created_at", "who", "status_change", "body", "document_link"]
    readonly_fields = fields
    statuses: type[models.TextChoices]
    document_url_name: str  # takes the request's pk and the step's pk

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")

    @admin.display(description=_("by"))
    def who(self, entry: TimelineMessage) -> str:
        name = entry.author.email if entry.author else gettext("the portal")
        return f"{name} ({gettext('staff')})" if entry.by_staff and entry.author else name

    @admin.display(description=_("status"))
    def status_change(self, entry: TimelineMessage) -> str:
        labels = dict(self.statuses.choices)
        if not entry.new_status:
            return "—"
        new = labels.get(entry.new_status, entry.new_status)
        return f"{labels.get(entry.old_status, entry.old_status)} → {new}" if entry.old_status else str(new)

    @admin.display(description=_("document"))
    def document_link(self, entry: TimelineMessage) -> str:
        if not entry.document:
            return "—"
        url = reverse(self.document_url_name, args=[entry.request_id, entry.pk])
        return format_html('<a href="{}">{}</a>', url, entry.document_name or gettext("document"))
