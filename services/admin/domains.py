"""Domain requests in the admin: manual fulfilment with the registry (art. 4.2).

Staff file the request at the registry themselves, then record its answer here: pending, a
question for the customer, completion (the domain service and its DNS zone) or rejection. Every
change goes through ``services.domains``; the auth code is shown only on an audited reveal.
"""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from portal.admin_site import CustomerFilter, apply_each, linked_customer
from services import domains
from services.admin.timeline import TimelineInline
from services.models import DomainRequest, DomainRequestMessage

Status = DomainRequest.Status

COMPLETE, REJECT = "complete", "reject"


class DomainRequestAdminForm(forms.ModelForm):
    """No field of the request is edited directly: staff record what the registry answered."""

    outcome = forms.ChoiceField(
        label=_("record"),
        required=False,
        choices=[
            ("", "—"),
            (Status.PENDING_REGISTRY, _("Filed: pending at the registry")),
            (Status.INFORMATION_REQUESTED, _("The registry asks for information (write the question below)")),
            (COMPLETE, _("Completed: create the domain service and its DNS zone")),
            (REJECT, _("Rejected (write the reason below)")),
        ],
    )
    message = forms.CharField(
        label=_("message to the customer"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=_("Required to ask for information (art. 4.2.1: e.g. proof of a trademark) or to reject."),
    )
    completion_plan = forms.ModelChoiceField(
        label=_("plan of the domain service"),
        queryset=None,
        required=False,
        help_text=_("On completion; empty: the request's plan, else the cheapest domain plan."),
    )

    class Meta:
        model = DomainRequest
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "completion_plan" in self.fields:
            self.fields["completion_plan"].queryset = domains.offered_plans()

    def clean(self):
        data = super().clean()
        outcome, message = data.get("outcome"), (data.get("message") or "").strip()
        if outcome in (Status.INFORMATION_REQUESTED, REJECT) and not message:
            self.add_error("message", gettext("Write the message the customer will read."))
        if message and not outcome:
            self.add_error("outcome", gettext("Choose what the message goes with."))
        if outcome == COMPLETE and self.instance.pk:
            for problem in domains.completion_problems(self.instance, plan=data.get("completion_plan")):
                self.add_error("outcome", problem)
        return data


class MessageForm(forms.Form):
    message = forms.CharField(label=_("message to the customer"), widget=forms.Textarea(attrs={"rows": 5, "cols": 70}))


class DomainTimelineInline(TimelineInline):
    model = DomainRequestMessage
    statuses = Status
    document_url_name = "admin:services_domainrequest_document"


@admin.register(DomainRequest)
class DomainRequestAdmin(admin.ModelAdmin):
    customer_link = linked_customer()
    list_display = ["domain", "shown_as", "customer_link", "kind", "status", "years", "created_at", "updated_at"]
    list_filter = [CustomerFilter, "status", "kind"]
    list_select_related = ["customer"]
    search_fields = ["domain", "customer__name"]
    date_hierarchy = "created_at"
    actions = ["mark_pending", "ask_information", "complete_requests", "reject_requests"]
    form = DomainRequestAdminForm
    inlines = [DomainTimelineInline]
    readonly_fields = [
        "domain", "shown_as", "customer_link", "kind", "status", "years", "plan", "requested_by", "created_at",
        "updated_at", "service_link", "nameservers_to_file", "new_owner", "auth_code",
    ]  # fmt: skip

    def get_fieldsets(self, request, obj=None):
        facts = [
            "domain", "shown_as", "customer_link", "kind", "status", "years", "plan", "requested_by", "created_at",
            "updated_at", "service_link",
        ]  # fmt: skip
        fieldsets = [
            (None, {"fields": facts}),
            (_("At the registry"), {"fields": ["nameservers_to_file", "new_owner", "auth_code"]}),
        ]
        if obj is not None and obj.status in domains.OPEN_STATUSES:
            fieldsets.append((_("Record the registry's answer"), {"fields": ["outcome", "message", "completion_plan"]}))
        return fieldsets

    def has_add_permission(self, request) -> bool:
        return False  # customers submit requests in the portal (domains.submit_request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a request is history: it is rejected, never deleted

    # Read-only fields

    @admin.display(description=_("as people read it"))
    def shown_as(self, obj: DomainRequest) -> str:
        return domains.display_domain(obj.domain)

    @admin.display(description=_("domain service"))
    def service_link(self, obj: DomainRequest) -> str:
        if not obj.service_id:
            return "—"
        url = reverse("admin:services_service_change", args=[obj.service_id])
        return format_html('<a href="{}">{}</a>', url, obj.service)

    @admin.display(description=_("nameservers"))
    def nameservers_to_file(self, obj: DomainRequest) -> str:
        rows = format_html_join("", "<li><code>{}</code></li>", ((ns,) for ns in domains.nameservers()))
        if obj.kind == DomainRequest.Kind.DNS_HOSTING:
            note = gettext("Registered elsewhere: the customer points the NS records at these (art. 4.3.2).")
        else:
            note = gettext("File the domain with our nameservers (art. 4.3.1).")
        return format_html("{}<ul>{}</ul>", note, rows)

    @admin.display(description=_("auth code"))
    def auth_code(self, obj: DomainRequest) -> str:
        if not obj.auth_code_encrypted:
            return "—"
        url = reverse("admin:services_domainrequest_auth_code", args=[obj.pk])
        return format_html(
            '{} <a href="{}" class="button">{}</a>',
            gettext("Stored encrypted."),
            url,
            gettext("Reveal (recorded in the audit log)"),
        )

    # Saving: through the domain functions only

    def save_model(self, request, obj: DomainRequest, form, change: bool) -> None:
        if not change:
            raise PermissionDenied
        data = form.cleaned_data
        outcome, message = data.get("outcome"), data.get("message", "")
        try:
            if outcome == COMPLETE:
                domains.complete(
                    request=obj, by=request.user, today=timezone.localdate(), plan=data.get("completion_plan")
                )
            elif outcome == REJECT:
                domains.reject(request=obj, by=request.user, message=message)
            elif outcome:
                domains.set_status(request=obj, status=outcome, by=request.user, message=message)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change: bool) -> None:
        """Nothing else to save: the timeline is read-only (and the change message reads these)."""
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    # Staff-only views: the audited reveal of the auth code, and the documents of the timeline

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/auth-code/", wrap(self.auth_code_view), name="services_domainrequest_auth_code"),
            path(
                "<int:pk>/documents/<int:message_pk>/",
                wrap(self.document_view),
                name="services_domainrequest_document",
            ),
            *super().get_urls(),
        ]

    def auth_code_view(self, request: HttpRequest, pk: int) -> TemplateResponse:
        """GET asks to confirm; POST reveals the code once and records who saw it."""
        domain_request = get_object_or_404(DomainRequest.objects.select_related("customer"), pk=pk)
        if not self.has_change_permission(request, domain_request):
            raise PermissionDenied
        if not domain_request.auth_code_encrypted:
            raise Http404
        code = None
        if request.method == "POST":
            code = domains.reveal_auth_code(request=domain_request, by=request.user, http_request=request)
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "domain_request": domain_request,
            "code": code, "title": gettext("Auth code of %(domain)s") % {"domain": domain_request.domain},
        }  # fmt: skip
        return TemplateResponse(request, "services/domain_admin_auth_code.html", context)  # never cached: admin_view

    def document_view(self, request: HttpRequest, pk: int, message_pk: int) -> FileResponse:
        entry = get_object_or_404(DomainRequestMessage.objects.select_related("request"), request_id=pk, pk=message_pk)
        if not self.has_view_permission(request, entry.request) or not entry.document:
            raise PermissionDenied
        return FileResponse(
            entry.document.open("rb"), as_attachment=True, filename=entry.document_name or "document",
            content_type="application/octet-stream",
        )  # fmt: skip

    # Actions: each request goes through its function, so each change is in its timeline

    def _apply(self, request: HttpRequest, queryset, change: Callable[[DomainRequest], object]) -> None:
        apply_each(
            self, request, queryset, change, name=lambda domain_request: domain_request.domain,
            done_message=ngettext_lazy("%(count)d request changed.", "%(count)d requests changed.", "count"),
        )  # fmt: skip

    def _with_message(self, request: HttpRequest, queryset, *, action: str, title: str, change) -> HttpResponse | None:
        """An intermediate page asking for the message the customer reads, then the change per request."""
        queryset = queryset.filter(status__in=domains.OPEN_STATUSES).select_related("customer")
        form = MessageForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._apply(request, queryset, lambda domain_request: change(domain_request, form.cleaned_data["message"]))
            return None
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": title, "form": form,
            "objects": queryset, "action": action, "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }  # fmt: skip
        return TemplateResponse(request, "services/domain_admin_message.html", context)

    @admin.action(description=_("Mark as filed: pending at the registry"))
    def mark_pending(self, request: HttpRequest, queryset) -> None:
        self._apply(
            request,
            queryset.filter(status__in=domains.OPEN_STATUSES).exclude(status=Status.PENDING_REGISTRY),
            lambda r: domains.set_status(request=r, status=Status.PENDING_REGISTRY, by=request.user),
        )

    @admin.action(description=_("Ask the customer for information (art. 4.2.1)…"))
    def ask_information(self, request: HttpRequest, queryset):
        return self._with_message(
            request, queryset, action="ask_information", title=gettext("What does the registry need?"),
            change=lambda r, message: domains.set_status(
                request=r, status=Status.INFORMATION_REQUESTED, by=request.user, message=message
            ),
        )  # fmt: skip

    @admin.action(description=_("Complete: create the domain services and their DNS zones"))
    def complete_requests(self, request: HttpRequest, queryset) -> None:
        today = timezone.localdate()
        self._apply(
            request,
            queryset.filter(status__in=domains.OPEN_STATUSES),
            lambda r: domains.complete(request=r, by=request.user, today=today),
        )

    @admin.action(description=_("Reject…"))
    def reject_requests(self, request: HttpRequest, queryset):
        return self._with_message(
            request, queryset, action="reject_requests", title=gettext("Why are these requests rejected?"),
            change=lambda r, message: domains.reject(request=r, by=request.user, message=message),
        )  # fmt: skip
