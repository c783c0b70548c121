"""Renewals in the admin: the notices sent, and the staff decision on a renewal paid after expiry.

The portal never revives a service whose renewal was paid after it stopped. The service list filters
those ("Renewal paid after expiry"), the service page says what to do, and two actions decide:
reactivate from the old period end, or refund. Both call ``services.renewals``; the actions and the
filter are added to the ``ServiceAdmin`` of ``services.admin.services`` from here, so that module
keeps its own concerns.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from billing.models import Invoice, InvoiceLine
from portal.admin_site import CustomerFilter, linked_customer
from services import notices, renewals
from services.admin.services import ServiceAdmin
from services.models import CertificateNotice, Service, ServiceNotice


class LatePaymentFilter(admin.SimpleListFilter):
    title = _("renewal paid after expiry")
    parameter_name = "late_payment"

    def lookups(self, request, model_admin):
        return [("yes", _("Awaiting a staff decision (reactivate or refund)"))]

    def queryset(self, request, queryset):
        if self.value() != "yes":
            return queryset
        paid = InvoiceLine.objects.filter(
            service=OuterRef("pk"), period_start=OuterRef("current_period_end"), invoice__status=Invoice.Status.PAID
        )
        refunded = ServiceNotice.objects.filter(
            service=OuterRef("pk"), period_end=OuterRef("current_period_end"), kind=notices.LATE_PAYMENT_REFUNDED
        )
        return (
            queryset.exclude(status=Service.Status.ACTIVE)
            .filter(current_period_end__isnull=False)
            .filter(Exists(paid))
            .exclude(Exists(refunded))
        )


@admin.display(description=_("renewal paid after expiry"))
def late_payment(service: Service) -> str:
    line = renewals.late_payment(service) if service.pk else None
    if line is None:
        return "—"
    return format_html(
        "<strong>{}</strong>",
        gettext(
            "Invoice %(number)s (%(start)s → %(end)s) was paid after the service stopped. Reactivate it "
            "(“Reactivate after late payment”) or refund the payment (“Refund the late payment”)."
        )
        % {"number": line.invoice.number, "start": line.period_start, "end": line.period_end},
    )


def _decide(request: HttpRequest, queryset, decide) -> int:
    done = 0
    for service in queryset:
        try:
            decide(service)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            done += 1
    return done


@admin.action(description=_("Reactivate after late payment (the period runs from the old end)"))
def reactivate_after_late_payment(modeladmin, request: HttpRequest, queryset) -> None:
    done = _decide(request, queryset, lambda s: renewals.reactivate_after_late_payment(service=s, by=request.user))
    if done:
        message = ngettext("%(count)d service reactivated.", "%(count)d services reactivated.", done)
        messages.success(request, message % {"count": done})


@admin.action(description=_("Refund the late payment (the service stays stopped)"))
def refund_late_payment(modeladmin, request: HttpRequest, queryset) -> None:
    done = _decide(request, queryset, lambda s: renewals.refund_late_payment(service=s, by=request.user))
    if done:
        message = ngettext(
            "%(count)d late payment to refund: make the transfer from the bank.",
            "%(count)d late payments to refund: make the transfers from the bank.",
            done,
        )
        messages.success(request, message % {"count": done})


ServiceAdmin.actions = [*ServiceAdmin.actions, reactivate_after_late_payment, refund_late_payment]
ServiceAdmin.list_filter = [*ServiceAdmin.list_filter, LatePaymentFilter]
ServiceAdmin.readonly_fields = [*ServiceAdmin.readonly_fields, late_payment]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by the jobs only: one row per notice sent, which is what makes it sent once."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ServiceNotice)
class ServiceNoticeAdmin(ReadOnlyAdmin):
    customer_link = linked_customer("service__customer")
    list_display = ["service", "customer_link", "kind", "period_end", "sent_at"]
    list_filter = [CustomerFilter, "kind"]
    list_select_related = ["service__customer", "service__plan"]
    search_fields = ["service__name", "service__customer__name"]
    date_hierarchy = "sent_at"


if not admin.site.is_registered(CertificateNotice):

    @admin.register(CertificateNotice)
    class CertificateNoticeAdmin(ReadOnlyAdmin):
        customer_link = linked_customer("certificate__request__customer")
        list_display = ["certificate", "customer_link", "days_before", "sent_at"]
        list_filter = ["days_before"]
        list_select_related = ["certificate__request__customer"]
        date_hierarchy = "sent_at"
