from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from billing import bank_statements, payments
from billing.models import CreditAccount, CreditPack, Invoice, InvoiceLine, LedgerEntry, Payment
from portal.admin_site import (
    CustomerFilter,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    changelist_of_customer,
    linked_customer,
)


def _link(url_name: str, pk: int | None, text: str) -> str:
    return format_html('<a href="{}">{}</a>', reverse(url_name, args=[pk]), text) if pk else "—"


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """History is append-only: no add, change or delete in the admin either (the portal's functions write)."""


@admin.register(CreditPack)
class CreditPackAdmin(admin.ModelAdmin):
    list_display = ["name", "credits", "price", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # retire a pack (not for sale) instead: invoices refer to it


@admin.register(CreditAccount)
class CreditAccountAdmin(ReadOnlyAdmin):
    customer_link = linked_customer()
    list_display = ["__str__", "customer_link", "balance", "updated_at", "ledger"]
    list_filter = [CustomerFilter]
    search_fields = ["customer__name"]
    list_select_related = ["customer"]
    fields = ["customer_link", "balance", "updated_at", "ledger"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer")

    @admin.display(description=_("ledger"))
    def ledger(self, account: CreditAccount) -> str:
        url = changelist_of_customer(LedgerEntry, account.customer_id)
        return format_html('<a href="{}">{}</a>', url, gettext("Ledger"))


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    customer_link = linked_customer("account__customer")
    list_display = [
        "created_at", "customer_link", "kind", "credits", "balance_after", "reason", "ticket_link", "invoice_link",
        "actor",
    ]  # fmt: skip
    list_filter = [CustomerFilter, "kind"]
    list_select_related = ["account__customer", "ticket", "invoice", "actor"]
    search_fields = ["account__customer__name", "reason", "ticket__number", "invoice__number"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = [
        "created_at", "customer_link", "kind", "credits", "balance_after", "reason", "ticket_link", "invoice_link",
        "actor",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account__customer", "ticket", "invoice", "actor")

    @admin.display(description=_("ticket"), ordering="ticket__number")
    def ticket_link(self, entry: LedgerEntry) -> str:
        return _link("admin:support_ticket_change", entry.ticket_id, entry.ticket.number if entry.ticket_id else "")

    @admin.display(description=_("invoice"), ordering="invoice__number")
    def invoice_link(self, entry: LedgerEntry) -> str:
        return _link("admin:billing_invoice_change", entry.invoice_id, entry.invoice.number if entry.invoice_id else "")


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    readonly_fields = ["description", "quantity", "unit_price", "amount", "credits", "service", "period"]
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("service__plan")

    @admin.display(description=_("period"))
    def period(self, line: InvoiceLine) -> str:
        return f"{line.period_start} → {line.period_end}" if line.period_start else "—"


class PaymentInline(ReadOnlyInline):
    model = Payment
    readonly_fields = ["received_on", "amount", "source", "payer", "bank_reference", "recorded_by"]
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by")


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    customer_link = linked_customer()
    list_display = ["number", "customer_link", "issued_on", "due_on", "total", "status", "reverse_charge"]
    list_filter = [CustomerFilter, "status", "reverse_charge", "issued_on"]
    list_select_related = ["customer"]
    search_fields = ["number", "customer__name", "structured_communication"]
    date_hierarchy = "issued_on"
    inlines = [InvoiceLineInline, PaymentInline]
    fields = [
        *("customer_link" if f.name == "customer" else f.name for f in Invoice._meta.fields if f.name != "id"),
        "ledger",
    ]
    readonly_fields = fields  # an issued invoice is never edited: payments and cancellations have their functions
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer", "issued_by")

    @admin.display(description=_("ledger"))
    def ledger(self, invoice: Invoice) -> str:
        if invoice.pk is None:
            return "—"
        url = changelist_of_customer(LedgerEntry, invoice.customer_id) + f"&invoice__id__exact={invoice.pk}"
        return format_html('<a href="{}">{}</a>', url, gettext("Credits granted by this invoice"))

    def has_add_permission(self, request) -> bool:
        return False  # invoices are issued by the portal (orders, credit packs, renewals)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class PaymentForm(forms.ModelForm):
    class Meta:
        model = Payment
        fields = ["invoice", "amount", "received_on", "payer", "note"]


class StatementUploadForm(forms.Form):
    statement = forms.FileField(label=_("camt.053 statement (XML)"))
    dry_run = forms.BooleanField(label=_("Dry run: show what would be recorded, record nothing"), required=False)


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    """Staff record a payment; a fully paid invoice then applies its effects (once)."""

    change_list_template = "admin/billing/payment/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_statement_view)
        return [path("import/", view, name="billing_payment_import"), *super().get_urls()]

    def import_statement_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a bank statement: the same import as `manage.py import_bank_statement`."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = StatementUploadForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            try:
                report = bank_statements.import_statement(
                    form.cleaned_data["statement"].read(), by=request.user, dry_run=form.cleaned_data["dry_run"]
                )
            except bank_statements.StatementError as error:
                form.add_error("statement", str(error))
            else:
                self.message_user(request, report.summary())
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form, "report": report,
            "title": _("Import a bank statement"),
        }  # fmt: skip
        return TemplateResponse(request, "admin/billing/payment/import.html", context)

    form = PaymentForm
    customer_path = "invoice__customer"
    customer_link = linked_customer(customer_path)
    list_display = ["received_on", "invoice", "customer_link", "amount", "source", "payer", "recorded_by"]
    list_filter = [CustomerFilter, "source"]
    list_select_related = ["invoice__customer", "recorded_by"]
    search_fields = ["invoice__number", "payer", "bank_reference"]
    autocomplete_fields = ["invoice"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        payment = payments.record_payment(
            invoice=obj.invoice, amount=obj.amount, received_on=obj.received_on, by=request.user,
            payer=obj.payer, note=obj.note,
        )  # fmt: skip
        obj.pk = payment.pk
        obj._state.adding = False
        obj.invoice.refresh_from_db()
        if obj.invoice.status == Invoice.Status.PAID:
            messages.success(request, _("Invoice %(number)s is paid.") % {"number": obj.invoice.number})
