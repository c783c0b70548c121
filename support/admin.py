"""The support desk in the admin: triage and answer tickets, keep the annex-1 catalogue.

Every ticket change goes through ``support.tickets`` (history, deadline recomputation, e-mails);
nothing here saves a ticket, a remark or a history row by itself.
"""

from collections.abc import Callable

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from portal.admin_site import CustomerFilter, ReadOnlyAdminMixin, apply_each, linked_customer
from services.models import Kind as ServiceKind
from support import access, charges, deadlines, sla, tickets
from support.models import (
    OPEN_STATUSES,
    Attachment,
    InterventionType,
    Priority,
    Quote,
    Remark,
    StaffAccessGrant,
    Status,
    Ticket,
    TicketEvent,
    TimeEntry,
)


def _when(instant) -> str:
    return date_format(timezone.localtime(instant), "SHORT_DATETIME_FORMAT")


# The catalogue (annex 1)


@admin.register(InterventionType)
class InterventionTypeAdmin(admin.ModelAdmin):
    list_display = [
        "service_group", "translated_label", "name_fr", "kind", "unit", "standard_credits", "express_credits",
        "response_time_applies", "is_active",
    ]  # fmt: skip
    list_display_links = ["translated_label"]
    list_filter = ["service_group", "kind", "unit", "response_time_applies", "is_active"]
    search_fields = ["code", "label", "name_fr"]
    actions = ["retire", "offer_again"]

    @admin.display(description=_("label"), ordering="label")
    def translated_label(self, entry: InterventionType) -> str:
        return entry.display_label

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []  # the code names the entry in data migrations and tests

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # tickets keep their reason (PROTECT): an entry is retired, never deleted

    @admin.action(description=_("Retire (no longer offered to customers)"))
    def retire(self, request: HttpRequest, queryset) -> None:
        count = queryset.filter(is_active=True).update(is_active=False)
        message = ngettext("%(count)d entry retired.", "%(count)d entries retired.", count)
        self.message_user(request, message % {"count": count})

    @admin.action(description=_("Offer again"))
    def offer_again(self, request: HttpRequest, queryset) -> None:
        count = queryset.filter(is_active=False).update(is_active=True)
        message = ngettext("%(count)d entry offered again.", "%(count)d entries offered again.", count)
        self.message_user(request, message % {"count": count})


# Ticket list filters


class SlaFilter(admin.SimpleListFilter):
    title = _("response deadline")
    parameter_name = "sla"

    def lookups(self, request, model_admin):
        return [
            ("breached", _("Breached")),
            ("at_risk", _("At risk (under one working hour left)")),
            ("due_today", _("Due today")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "breached":
            return queryset.filter(deadlines.breached(now))
        if self.value() == "at_risk":
            return queryset.filter(deadlines.at_risk(now))
        if self.value() == "due_today":
            return queryset.filter(deadlines.due_on(sla.Calendar().local_date(now)))
        return queryset


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("open", _("Open (any open status)")), *Status.choices]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(status__in=OPEN_STATUSES)
        if self.value() in Status.values:
            return queryset.filter(status=self.value())
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = _("assignee")
    parameter_name = "assignee"

    def lookups(self, request, model_admin):
        staff = User.objects.filter(is_staff=True).order_by("email").values_list("pk", "email")
        return [("me", _("Me")), ("none", _("Unassigned")), *((str(pk), email) for pk, email in staff)]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(assignee=request.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value and value.isdecimal():
            return queryset.filter(assignee_id=int(value))
        return queryset


class ServiceKindFilter(admin.SimpleListFilter):
    title = _("service kind")
    parameter_name = "service_kind"

    def lookups(self, request, model_admin):
        return [*ServiceKind.choices, ("none", _("No particular service"))]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(service__isnull=True)
        if self.value() in ServiceKind.values:
            return queryset.filter(service__plan__kind=self.value())
        return queryset


# The ticket page


class TicketAdminForm(forms.ModelForm):
    class Meta:
        model = Ticket
        fields = ["reason", "priority", "status", "assignee"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.fields:
            # Compare with what the page showed, not with the row as it is now: a field staff did not touch
            # must not undo a change made meanwhile (the customer closing the ticket, a colleague's triage).
            self.fields[name].show_hidden_initial = True
        if "reason" in self.fields:
            # Staff may pick a retired entry (art. 7.2: the reason can change at any time); say which are.
            self.fields["reason"].label_from_instance = lambda entry: (
                str(entry) if entry.is_active else gettext("%(reason)s (retired)") % {"reason": entry}
            )


class TicketRowsFormSet(BaseInlineFormSet):
    """Every row of an inline reads the page's ticket (its ``__str__`` names it; the thread shares its files)."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.instance.ticket = self.instance  # the same ticket: no query, nor join, per row
        return form


def _files_of(ticket: Ticket) -> list[Attachment]:
    """The ticket's attachments with their remarks, read once for the page (its files and the thread's)."""
    if not hasattr(ticket, "_admin_files"):
        ticket._admin_files = list(ticket.attachments.select_related("remark"))
    return ticket._admin_files


class StaffReplyForm(forms.ModelForm):
    class Meta:
        model = Remark
        fields = ["body", "is_internal"]
        widgets = {"body": forms.Textarea(attrs={"rows": 4, "cols": 60})}


class RemarkInline(admin.TabularInline):
    """The thread, read-only; new rows are staff replies or internal notes, saved by ``add_staff_reply``."""

    model = Remark
    form = StaffReplyForm
    formset = TicketRowsFormSet
    fields = ["written", "author", "visibility", "body", "is_internal", "files"]
    readonly_fields = ["written", "author", "visibility", "files"]
    extra = 1
    can_delete = False
    verbose_name = _("message")
    verbose_name_plural = _("thread (add a public reply or an internal note below)")

    def get_queryset(self, request):
        # Each row's ticket and files come from the page (TicketRowsFormSet, _files_of), not per remark.
        return super().get_queryset(request).select_related("author")

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # existing messages are shown read-only; the extra row stays editable

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("written"))
    def written(self, remark: Remark) -> str:
        return _when(remark.created_at) if remark.pk else ""

    @admin.display(description=_("visibility"))
    def visibility(self, remark: Remark) -> str:
        if remark.pk is None:
            return ""
        if remark.is_internal:
            return format_html('<span class="remark-internal">{}</span>', gettext("Internal note"))
        return gettext("Staff reply") if remark.by_staff else gettext("Customer")

    @admin.display(description=_("attachments"))
    def files(self, remark: Remark) -> str:
        if remark.pk is None:
            return ""
        return _attachment_links([a for a in _files_of(remark.ticket) if a.remark_id == remark.pk])


class TimeEntryForm(forms.ModelForm):
    class Meta:
        model = TimeEntry
        fields = ["minutes", "note"]


class TimeEntryInline(admin.TabularInline):
    """Time logged on the ticket; a new row is charged by ``charges.log_time`` (art. 7.4, annex 1)."""

    model = TimeEntry
    form = TimeEntryForm
    formset = TicketRowsFormSet
    fields = ["created_at", "staff", "minutes", "note", "credits", "charge"]
    readonly_fields = ["created_at", "staff", "credits", "charge"]
    extra = 1
    can_delete = False
    verbose_name_plural = _("time entries (charged in credits as annex 1 prices the reason)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("staff")

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class QuoteForm(forms.ModelForm):
    class Meta:
        model = Quote
        fields = ["credits", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2, "cols": 50})}


class QuoteInline(admin.TabularInline):
    """Art. 7.4: credits proposed for work annex 1 does not price; the customer accepts in the portal."""

    model = Quote
    form = QuoteForm
    formset = TicketRowsFormSet
    fields = ["proposed_at", "proposed_by", "credits", "description", "status", "decided_at"]
    readonly_fields = ["proposed_at", "proposed_by", "status", "decided_at"]
    extra = 1
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("proposed_by")

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class TicketEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TicketEvent
    formset = TicketRowsFormSet
    fields = ["created_at", "actor", "field", "old_value", "new_value"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


def _attachment_links(attachments, *, mark_internal: bool = False) -> str:
    """Links to the staff-only download view; ``mark_internal`` needs the attachments' remarks selected."""
    rows = [
        (
            reverse("admin:support_ticket_attachment", args=[a.ticket_id, a.pk]),
            a.original_name,
            filesizeformat(a.size),
            gettext(" (internal note)") if mark_internal and a.remark_id and a.remark.is_internal else "",
        )
        for a in attachments
    ]
    if not rows:
        return "—"
    return format_html(
        '<ul class="support-attachments">{}</ul>', format_html_join("", '<li><a href="{}">{}</a> ({}){}</li>', rows)
    )


# The ticket list and page


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    customer_link = linked_customer()
    list_display = [
        "number", "customer_link", "service", "reason_label", "kind", "priority", "status", "assignee", "logged_at",
        "deadline",
    ]  # fmt: skip
    list_filter = [CustomerFilter, SlaFilter, StatusFilter, "priority", "kind", AssigneeFilter, ServiceKindFilter]
    list_select_related = ["customer", "service__plan", "reason", "assignee"]
    search_fields = ["number", "customer__name", "subject"]
    show_full_result_count = False  # one COUNT fewer on a table of 100,000 tickets
    list_per_page = 50  # a screenful to triage; 100 rows of twelve columns cost twice the rendering
    actions = ["assign_to_me", "set_standard", "set_express", "mark_awaiting_credits", "charge_pending", "close"]
    form = TicketAdminForm
    autocomplete_fields = ["assignee"]
    fieldsets = [
        (None, {"fields": ["number", "customer_link", "service", "opened_by", "subject", "description"]}),
        (_("Triage"), {"fields": ["reason", "kind", "priority", "status", "assignee"]}),
        (
            _("Response time (art. 7.6)"),
            {"fields": ["logged_at", "deadline", "first_response_at", "responded_in_time", "closed_at"]},
        ),
        (_("Staff access and files"), {"fields": ["staff_access", "ticket_files"]}),
    ]
    readonly_fields = [
        "number", "customer_link", "service", "opened_by", "subject", "description", "kind", "logged_at", "deadline",
        "first_response_at", "responded_in_time", "closed_at", "staff_access", "ticket_files",
    ]  # fmt: skip
    inlines = [RemarkInline, TimeEntryInline, QuoteInline, TicketEventInline]

    class Media:
        css = {"all": ["support/admin.css"]}

    def get_queryset(self, request):
        # The same rules as the SLA filter, computed by the database for the highlighting.
        return super().get_queryset(request).annotate(sla_state=deadlines.sla_state(timezone.now()))

    def get_object(self, request, object_id, from_field=None):
        # The page shows the customer, the service (named with its plan) and who opened the ticket:
        # read them with the ticket, not one query each.
        queryset = self.get_queryset(request).select_related("customer", "service__plan", "opened_by")
        field = self.model._meta.pk if from_field is None else self.model._meta.get_field(from_field)
        try:
            return queryset.get(**{field.name: field.to_python(object_id)})
        except (self.model.DoesNotExist, ValidationError, ValueError):
            return None

    def has_add_permission(self, request) -> bool:
        return False  # customers open tickets (tickets.open_ticket gives the number and the deadline)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a ticket is history: it is closed, never deleted

    # Columns and read-only fields

    @admin.display(description=_("reason"), ordering="reason__label")
    def reason_label(self, ticket: Ticket) -> str:
        return ticket.reason.display_label

    @admin.display(description=_("response due (working hours left)"), ordering="response_deadline")
    def deadline(self, ticket: Ticket) -> str:
        if ticket.response_deadline is None:
            return gettext("No response time")
        state = getattr(ticket, "sla_state", "")
        css = {"breached": "sla-breached", "at_risk": "sla-at-risk"}.get(state, "sla-ok")
        if ticket.first_response_at is not None:
            note = gettext("answered in time") if ticket.responded_in_time else gettext("answered late")
        else:
            hours = sla.working_hours(ticket.working_time_left(timezone.now()))
            note = gettext("%(hours)s h left") % {"hours": number_format(hours, decimal_pos=2)}
        return format_html('<span class="{}">{} ({})</span>', css, _when(ticket.response_deadline), note)

    @admin.display(description=_("staff access (art. 7.3)"))
    def staff_access(self, ticket: Ticket) -> str:
        grant = access.grant_for_ticket(ticket, timezone.now())
        if grant is None:
            return gettext("Not granted: do not access the customer's configuration.")
        if grant.ticket_id:
            return gettext("Granted for this ticket on %(when)s.") % {"when": _when(grant.granted_at)}
        if grant.expires_at:
            return gettext("Granted for all tickets until %(until)s.") % {"until": _when(grant.expires_at)}
        return gettext("Granted for all tickets.")

    @admin.display(description=_("attachments"))
    def ticket_files(self, ticket: Ticket) -> str:
        return _attachment_links(_files_of(ticket), mark_internal=True)

    # Saving: through the ticket functions only

    def save_model(self, request, obj: Ticket, form, change: bool) -> None:
        if not change:
            raise PermissionDenied
        data, changed = form.cleaned_data, set(form.changed_data)
        if "reason" in changed:
            tickets.change_reason(ticket=obj, reason=data["reason"], by=request.user)
        if "priority" in changed:
            tickets.change_priority(ticket=obj, priority=data["priority"], by=request.user)
        if "status" in changed:
            tickets.change_status(ticket=obj, status=data["status"], by=request.user)
        if "assignee" in changed:
            tickets.assign(ticket=obj, assignee=data["assignee"], by=request.user)

    def save_formset(self, request, form, formset, change: bool) -> None:
        if formset.model is TimeEntry:
            return self._save_new_rows(formset, lambda row: charges.log_time(
                ticket=form.instance, staff=request.user, minutes=row["minutes"], note=row["note"]
            ))  # fmt: skip
        if formset.model is Quote:
            return self._save_new_rows(formset, lambda row: charges.propose_quote(
                ticket=form.instance, credits=row["credits"], description=row["description"], by=request.user
            ))  # fmt: skip
        if formset.model is not Remark:
            return super().save_formset(request, form, formset, change)
        added = []
        for reply in formset.extra_forms:
            if reply.has_changed():
                body, internal = reply.cleaned_data["body"], reply.cleaned_data["is_internal"]
                added.append(
                    tickets.add_staff_reply(ticket=form.instance, author=request.user, body=body, internal=internal)
                )
        # What the admin's change message reads, since formset.save() is not called.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = added, [], []
        return None

    @staticmethod
    def _save_new_rows(formset, create) -> None:
        added = [create(row.cleaned_data) for row in formset.extra_forms if row.has_changed()]
        formset.new_objects, formset.changed_objects, formset.deleted_objects = added, [], []

    # Attachments: files are under MEDIA_ROOT and never served publicly; staff get them here.

    def get_urls(self):
        view = self.admin_site.admin_view(self.attachment_view)
        download = path("<int:ticket_id>/attachments/<int:pk>/", view, name="support_ticket_attachment")
        return [download, *super().get_urls()]

    def attachment_view(self, request: HttpRequest, ticket_id: int, pk: int) -> FileResponse:
        attachment = get_object_or_404(Attachment.objects.select_related("ticket"), ticket_id=ticket_id, pk=pk)
        if not self.has_view_permission(request, attachment.ticket):
            raise PermissionDenied
        return FileResponse(
            attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name,
            content_type="application/octet-stream",
        )  # fmt: skip

    # Actions: each calls the ticket function per ticket, so each change is in the history

    def _apply(self, request: HttpRequest, queryset, change: Callable[[Ticket], object]) -> None:
        apply_each(
            self, request, queryset, change, name=lambda ticket: ticket.number,
            done_message=ngettext_lazy("%(count)d ticket changed.", "%(count)d tickets changed.", "count"),
        )  # fmt: skip

    @admin.action(description=_("Assign to me"))
    def assign_to_me(self, request: HttpRequest, queryset) -> None:
        self._apply(
            request,
            queryset.exclude(assignee=request.user),
            lambda ticket: tickets.assign(ticket=ticket, assignee=request.user, by=request.user),
        )

    def _set_priority(self, request: HttpRequest, queryset, priority: str) -> None:
        self._apply(
            request,
            queryset.exclude(priority=priority),
            lambda ticket: tickets.change_priority(ticket=ticket, priority=priority, by=request.user),
        )

    @admin.action(description=_("Change priority to Standard"))
    def set_standard(self, request: HttpRequest, queryset) -> None:
        self._set_priority(request, queryset, Priority.STANDARD)

    @admin.action(description=_("Change priority to Express"))
    def set_express(self, request: HttpRequest, queryset) -> None:
        self._set_priority(request, queryset, Priority.EXPRESS)

    @admin.action(description=_("Mark awaiting credits (art. 7.4)"))
    def mark_awaiting_credits(self, request: HttpRequest, queryset) -> None:
        self._apply(
            request,
            queryset.filter(status__in=OPEN_STATUSES).exclude(status=Status.AWAITING_CREDITS),
            lambda ticket: tickets.change_status(ticket=ticket, status=Status.AWAITING_CREDITS, by=request.user),
        )

    @admin.action(description=_("Charge what waits for credits"))
    def charge_pending(self, request: HttpRequest, queryset) -> None:
        self._apply(
            request,
            queryset.filter(status=Status.AWAITING_CREDITS),
            lambda ticket: charges.charge_pending(ticket=ticket, by=request.user),
        )

    @admin.action(description=_("Close"))
    def close(self, request: HttpRequest, queryset) -> None:
        self._apply(
            request,
            queryset.exclude(status=Status.CLOSED),
            lambda ticket: tickets.close(ticket=ticket, by=request.user),
        )


@admin.register(StaffAccessGrant)
class StaffAccessGrantAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Art. 7.3: the customer grants and revokes; staff only see."""

    customer_link = linked_customer()
    list_display = ["granted_at", "customer_link", "ticket", "granted_by", "expires_at", "revoked_at", "active"]
    list_select_related = ["customer", "ticket", "granted_by"]
    search_fields = ["customer__name", "ticket__number"]
    list_filter = [CustomerFilter, ("revoked_at", admin.EmptyFieldListFilter)]
    date_hierarchy = "granted_at"

    @admin.display(description=_("active"), boolean=True)
    def active(self, grant: StaffAccessGrant) -> bool:
        return grant.is_active()
