"""Microsoft 365 in the admin: licence changes to apply at Microsoft, price changes, integration services."""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.admin_site import CustomerFilter, linked_customer
from services import m365
from services.models import Kind, LicenceChange, OrderIntegration, Plan, PriceChange


def _apply(model_admin: admin.ModelAdmin, request: HttpRequest, queryset, change: Callable[[object], object]) -> int:
    """Run ``change`` on each row; report refusals one by one. Returns the rows changed."""
    done = 0
    for obj in queryset:
        try:
            if change(obj):
                done += 1
        except ValidationError as error:
            model_admin.message_user(request, f"{obj}: {' '.join(error.messages)}", messages.ERROR)
    return done


class FulfilmentFilter(admin.SimpleListFilter):
    title = _("fulfilment")
    parameter_name = "fulfilment"

    def lookups(self, request, model_admin):
        return LicenceChange.Fulfilment.choices

    def queryset(self, request, queryset):
        return queryset.filter(fulfilment=self.value()) if self.value() else queryset


@admin.register(LicenceChange)
class LicenceChangeAdmin(admin.ModelAdmin):
    """The work to do at Microsoft, pending first; a change is history, so it is never edited."""

    customer_link = linked_customer("service__customer")
    list_display = [
        "created_at", "customer_link", "service", "delta_display", "quantity_after", "by", "fulfilment", "fulfilled_by",
        "fulfilled_at",
    ]  # fmt: skip
    list_filter = [CustomerFilter, FulfilmentFilter]
    list_select_related = ["service__customer", "service__plan", "by", "fulfilled_by"]
    search_fields = ["service__name", "service__customer__name"]
    actions = ["done_at_microsoft"]
    readonly_fields = [
        "service", "delta", "quantity_after", "by", "created_at", "fulfilment", "fulfilled_by", "fulfilled_at",
    ]  # fmt: skip

    def get_ordering(self, request):
        # Pending first, oldest first: Microsoft gets them in the order customers made them.
        pending_first = Case(
            When(fulfilment=LicenceChange.Fulfilment.PENDING, then=Value(0)), default=Value(1),
            output_field=IntegerField(),
        )  # fmt: skip
        return [pending_first.asc(), "created_at", "pk"]

    @admin.display(description=_("change"), ordering="delta")
    def delta_display(self, change: LicenceChange) -> str:
        if change.quantity_after == 0:
            return _("%(delta)+d (ends the subscription)") % {"delta": change.delta}
        return f"{change.delta:+d}"

    def has_add_permission(self, request) -> bool:
        return False  # changes come from the portal (art. 6.1.5)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)  # the list and its action only

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Done at Microsoft"), permissions=["view"])
    def done_at_microsoft(self, request: HttpRequest, queryset) -> None:
        now = timezone.now()
        done = _apply(self, request, queryset, lambda change: m365.mark_done(change=change, by=request.user, now=now))
        self.message_user(
            request,
            ngettext("%(count)d change marked done at Microsoft.", "%(count)d changes marked done at Microsoft.", done)
            % {"count": done},
        )


class PriceChangeForm(forms.ModelForm):
    class Meta:
        model = PriceChange
        fields = ["plan", "price", "effective_on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "plan" in self.fields:
            self.fields["plan"].queryset = Plan.objects.filter(kind=Kind.M365_PACK)

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and data.get("plan") and data.get("price") is not None and data.get("effective_on"):
            m365.check_price_change(  # its errors are keyed by the form's fields
                plan=data["plan"], price=data["price"], effective_on=data["effective_on"], today=timezone.localdate()
            )
        return data

    def validate_unique(self):
        pass  # check_price_change says it in words; the constraint still guards the race


@admin.register(PriceChange)
class PriceChangeAdmin(admin.ModelAdmin):
    """Art. 6.1.6: staff record Microsoft's new price from a date, then announce it to customers."""

    form = PriceChangeForm
    list_display = ["plan", "price", "effective_on", "created_by", "created_at", "announced_at"]
    list_filter = ["plan", ("announced_at", admin.EmptyFieldListFilter)]
    list_select_related = ["plan", "created_by"]
    date_hierarchy = "effective_on"
    actions = ["announce"]

    def get_readonly_fields(self, request, obj=None):
        # Once recorded a price change is kept as it is: record another one to correct it.
        return ["plan", "price", "effective_on", "created_by", "created_at", "announced_at"] if obj else []

    def has_delete_permission(self, request, obj=None) -> bool:
        # A change nobody was told about may go; an announced one is part of what customers read.
        return super().has_delete_permission(request, obj) and (obj is None or obj.announced_at is None)

    def save_model(self, request, obj, form, change):
        if change:
            return
        recorded = m365.record_price_change(
            plan=obj.plan, price=obj.price, effective_on=obj.effective_on, by=request.user
        )
        obj.pk, obj.created_by, obj.created_at = recorded.pk, recorded.created_by, recorded.created_at
        obj._state.adding = False
        self.message_user(
            request, _("Recorded. Use the action “Announce to customers” to tell them by e-mail."), messages.INFO
        )

    @admin.action(description=_("Announce to customers"), permissions=["view"])
    def announce(self, request: HttpRequest, queryset) -> None:
        now = timezone.now()
        told, already = 0, 0
        for change in queryset.select_related("plan"):
            if change.announced_at:
                already += 1
                continue
            told += m365.announce_price_change(change=change, now=now, by=request.user)
        self.message_user(
            request, ngettext("%(count)d customer told.", "%(count)d customers told.", told) % {"count": told}
        )
        if already:
            self.message_user(
                request,
                ngettext(
                    "%(count)d price change was already announced: nothing was sent again.",
                    "%(count)d price changes were already announced: nothing was sent again.",
                    already,
                )
                % {"count": already},
                messages.WARNING,
            )


class OrderIntegrationForm(forms.ModelForm):
    class Meta:
        model = OrderIntegration
        fields = ["order", "scope", "price"]

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and data.get("order") and data.get("price") is not None:
            m365.check_integration(order=data["order"], scope=data.get("scope", ""), price=data["price"])
        return data


@admin.register(OrderIntegration)
class OrderIntegrationAdmin(admin.ModelAdmin):
    """Art. 6.1.4: integration services agreed with the customer when ordering a pack."""

    form = OrderIntegrationForm
    customer_link = linked_customer("order__customer")
    list_display = ["order", "customer_link", "short_scope", "price"]
    list_filter = [CustomerFilter]
    list_select_related = ["order__customer"]
    search_fields = ["order__customer__name", "scope"]
    raw_id_fields = ["order"]

    @admin.display(description=_("agreed scope"))
    def short_scope(self, integration: OrderIntegration) -> str:
        return integration.scope[:80]

    def get_readonly_fields(self, request, obj=None):
        return ["order", "scope", "price"] if obj else []  # agreed with the customer: kept as agreed

    def save_model(self, request, obj, form, change):
        if change:
            return
        created = m365.add_integration(order=obj.order, scope=obj.scope, price=obj.price, by=request.user)
        obj.pk = created.pk
        obj._state.adding = False
