"""The catalogue, services and orders in the admin.

Status changes go through ``services.lifecycle`` and decisions on orders through ``services.orders``,
so history, audit, add-ons and e-mails follow; nothing here saves a status or a decision by itself.
"""

from collections.abc import Callable

from dateutil.relativedelta import relativedelta
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from portal.admin_site import (
    CustomerFilter,
    ReadOnlyInline,
    apply_each,
    changelist_of_customer,
    customer_links,
    linked_customer,
)
from services import lifecycle, m365, orders
from services.models import Order, OrderIntegration, OrderLine, Plan, Service, ServiceEvent
from support.models import Ticket


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "price", "period_months", "requires_kind", "is_active", "services"]
    list_filter = ["kind", "is_active", "requires_kind"]
    search_fields = ["name"]

    @admin.display(description=_("services"))
    def services(self, plan: Plan) -> str:
        url = reverse("admin:services_service_changelist") + f"?plan__id__exact={plan.pk}"
        return format_html('<a href="{}">{}</a>', url, gettext("Services"))


class AddonInline(ReadOnlyInline):
    model = Service
    fk_name = "parent"
    fields = ["name", "plan", "status", "current_period_end"]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("plan")


class ServiceEventInline(ReadOnlyInline):
    """The service's history, written by ``services.lifecycle`` only."""

    model = ServiceEvent
    fields = ["created_at", "actor", "field", "old_value", "new_value"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class ServiceAdminForm(forms.ModelForm):
    """The admin builds it for every field of Service (no Meta here, so fields added later show up)."""

    def clean(self):
        cleaned = super().clean()
        status, plan = cleaned.get("status"), cleaned.get("plan")
        if status and plan and ("status" in self.changed_data or self.instance.pk is None):
            # Checked on a probe: the instance itself is only updated after clean().
            lifecycle.check_status(service=Service(plan=plan, parent=cleaned.get("parent")), status=status)
        start, end = cleaned.get("started_on"), cleaned.get("current_period_end")
        if start and end and end <= start:
            self.add_error("current_period_end", gettext("A period ends after it starts."))
        return cleaned


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    form = ServiceAdminForm
    customer_link = linked_customer()
    list_display = ["name", "customer_link", "plan", "status", "started_on", "current_period_end", "auto_renew"]
    list_filter = [CustomerFilter, "status", "plan__kind", "auto_renew"]
    list_select_related = ["customer", "plan"]
    search_fields = ["name", "customer__name"]
    autocomplete_fields = ["customer", "plan", "parent"]
    readonly_fields = ["related"]
    date_hierarchy = "current_period_end"
    inlines = [AddonInline, ServiceEventInline]
    actions = ["suspend", "reactivate", "end"]

    def get_queryset(self, request):
        # The page names the customer and, in the autocomplete boxes, each service with its plan's kind.
        return super().get_queryset(request).select_related("plan", "customer")

    @admin.display(description=_("related"))
    def related(self, service: Service) -> str:
        if service.pk is None:
            return "—"
        tickets = changelist_of_customer(Ticket, service.customer_id) + f"&service__id__exact={service.pk}"
        return format_html(
            '{} · <a href="{}">{}</a>', customer_links(service.customer), tickets, gettext("Tickets about this service")
        )

    def save_model(self, request, obj: Service, form, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            lifecycle.created(obj, request.user)
            if obj.started_on:
                lifecycle.record_period(service=obj, start=obj.started_on, end=obj.current_period_end, by=request.user)
            return
        changed = set(form.changed_data)
        status = obj.status
        others = sorted(changed - {"status"})
        if others:
            obj.save(update_fields=others)  # never the status: set_status below compares with the row
        if "status" in changed:
            lifecycle.set_status(service=obj, status=status, by=request.user)
        if "current_period_end" in changed and obj.current_period_end:
            end = obj.current_period_end
            start = end - relativedelta(months=obj.plan.period_months) if obj.plan.period_months else obj.started_on
            if start and start < end:
                lifecycle.record_period(service=obj, start=start, end=end, by=request.user)

    def _apply(self, request: HttpRequest, queryset, status: str) -> None:
        apply_each(
            self, request, queryset.exclude(status=status).select_related("plan"),
            lambda service: lifecycle.set_status(service=service, status=status, by=request.user),
            done_message=ngettext_lazy("%(count)d service changed.", "%(count)d services changed.", "count"),
            name=lambda service: service.name,
        )  # fmt: skip

    @admin.action(description=_("Suspend (the add-ons of a shared hosting end with it)"))
    def suspend(self, request: HttpRequest, queryset) -> None:
        self._apply(request, queryset, Service.Status.SUSPENDED)

    @admin.action(description=_("Reactivate"))
    def reactivate(self, request: HttpRequest, queryset) -> None:
        self._apply(request, queryset, Service.Status.ACTIVE)

    @admin.action(description=_("End (the add-ons of a shared hosting end with it)"))
    def end(self, request: HttpRequest, queryset) -> None:
        self._apply(request, queryset, Service.Status.ENDED)


# Orders


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["plan", "name", "quantity", "parent_service", "service"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("plan", "parent_service", "service")


DECISIONS = [
    ("", "—"),
    ("accept", _("Accept: create the services and issue the first invoice")),
    ("refuse", _("Refuse: the customer reads the reason below")),
]


class OrderDecisionForm(forms.ModelForm):
    decision = forms.ChoiceField(label=_("decision"), choices=DECISIONS, required=False)

    class Meta:
        model = Order
        fields = ["refusal_reason"]

    def clean(self):
        cleaned = super().clean()
        decision = cleaned.get("decision")
        if not decision:
            if "refusal_reason" in self.changed_data:
                self.add_error("decision", gettext("Choose “Refuse” to send the reason to the customer."))
            return cleaned
        if self.instance.status != Order.Status.SUBMITTED:
            raise ValidationError(gettext("This order is no longer awaiting a decision."))
        if decision == "refuse" and not (cleaned.get("refusal_reason") or "").strip():
            self.add_error("refusal_reason", gettext("Give the customer the reason of the refusal."))
        if decision == "accept":
            problems = orders.acceptance_problems(self.instance)
            if problems:
                raise ValidationError(problems)
        return cleaned


class RefusalForm(forms.Form):
    refusal_reason = forms.CharField(
        label=_("reason of the refusal"), widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=_("Sent to the customer and shown on the order in the portal."),
    )  # fmt: skip


class OrderIntegrationInline(admin.TabularInline):
    """Art. 6.1.4: integration services agreed with the order; new rows go through m365.add_integration."""

    model = OrderIntegration
    fields = ["scope", "price"]
    extra = 1
    can_delete = False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    form = OrderDecisionForm
    customer_link = linked_customer()
    list_display = ["number", "customer_link", "created_at", "status", "products", "invoice"]
    list_filter = [CustomerFilter, "status", "created_at"]
    list_select_related = ["customer", "invoice"]
    search_fields = ["customer__name", "lines__name"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, OrderIntegrationInline]
    actions = ["accept", "refuse"]
    readonly_fields = ["customer_link", "placed_by", "status", "created_at", "decided_by", "decided_at", "invoice"]

    def save_formset(self, request, form, formset, change: bool) -> None:
        if formset.model is not OrderIntegration:
            return super().save_formset(request, form, formset, change)
        added = [
            m365.add_integration(order=form.instance, scope=row.cleaned_data["scope"], price=row.cleaned_data["price"],
                                 by=request.user)
            for row in formset.extra_forms
            if row.has_changed()
        ]  # fmt: skip
        formset.new_objects, formset.changed_objects, formset.deleted_objects = added, [], []
        return None

    def get_queryset(self, request):
        lines = OrderLine.objects.select_related("plan")
        return super().get_queryset(request).prefetch_related(Prefetch("lines", queryset=lines))

    def get_fields(self, request, obj=None):
        if obj is not None and obj.status == Order.Status.SUBMITTED:
            return [*self.readonly_fields, "decision", "refusal_reason"]
        return [*self.readonly_fields, "refusal_reason"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != Order.Status.SUBMITTED:
            return [*self.readonly_fields, "refusal_reason"]
        return self.readonly_fields

    def has_add_permission(self, request) -> bool:
        return False  # customers place orders in the portal

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # refuse instead: the decision stays on record

    @admin.display(description=_("order"), ordering="pk")
    def number(self, order: Order) -> str:
        return f"#{order.pk}"

    @admin.display(description=_("products"))
    def products(self, order: Order) -> str:
        return "; ".join(f"{line.plan.name} — {line.name}" for line in order.lines.all())

    def save_model(self, request, obj: Order, form, change: bool) -> None:
        decision = form.cleaned_data.get("decision")
        try:
            if decision == "accept":
                orders.accept_order(order=obj, by=request.user)
            elif decision == "refuse":
                orders.refuse_order(order=obj, by=request.user, reason=form.cleaned_data["refusal_reason"])
        except ValidationError as error:  # changed meanwhile (the customer cancelled, a hosting ended)
            self.message_user(request, " ".join(error.messages), messages.ERROR)

    def _apply(self, request: HttpRequest, queryset, decide: Callable[[Order], object], done_message) -> int:
        return apply_each(self, request, queryset, decide, done_message=done_message, name=lambda o: f"#{o.pk}")

    @admin.action(description=_("Accept: create the services and issue the first invoices"))
    def accept(self, request: HttpRequest, queryset) -> None:
        self._apply(
            request, queryset, lambda order: orders.accept_order(order=order, by=request.user),
            ngettext_lazy("%(count)d order accepted.", "%(count)d orders accepted.", "count"),
        )  # fmt: skip

    @admin.action(description=_("Refuse, with a reason…"))
    def refuse(self, request: HttpRequest, queryset):
        """An intermediate page asks for the reason the customer will read, then refuses each order."""
        submitted = queryset.filter(status=Order.Status.SUBMITTED).select_related("customer")
        if not submitted:
            self.message_user(request, gettext("None of the selected orders awaits a decision."), messages.WARNING)
            return None
        form = RefusalForm(request.POST if "refusal_reason" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["refusal_reason"]
            self._apply(
                request, submitted, lambda order: orders.refuse_order(order=order, by=request.user, reason=reason),
                ngettext_lazy("%(count)d order refused.", "%(count)d orders refused.", "count"),
            )  # fmt: skip
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Refuse orders"),
            "opts": self.model._meta,
            "objects": submitted,
            "action": "refuse",
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "services/order_admin_refuse.html", context)
