from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from billing import bank_statements, payments
from billing.models import CreditAccount, CreditPack, Invoice, InvoiceLine, LedgerEntry, Payment


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is append-only: no change, no delete, in the admin too."""

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CreditPack)
class CreditPackAdmin(admin.ModelAdmin):
    list_display = ["name", "credits", "price", "is_active"]
    list_filter = ["is_active"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # retire a pack (not for sale) instead: invoices refer to it


@admin.register(CreditAccount)
class CreditAccountAdmin(ReadOnlyAdmin):
    list_display = ["customer", "balance", "updated_at"]
    search_fields = ["customer__name"]
    list_select_related = ["customer"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "customer",
        "kind",
        "credits",
        "balance_after",
        "reason",
        "ticket",
        "invoice",
        "actor",
    ]
    list_filter = ["kind"]
    list_select_related = ["account__customer", "ticket", "invoice", "actor"]
    search_fields = ["account__customer__name", "reason", "ticket__number", "invoice__number"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description=_("customer"), ordering="account__customer__name")
    def customer(self, entry):
        return entry.account.customer


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    readonly_fields = ["description", "quantity", "unit_price", "amount", "credits"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    readonly_fields = ["received_on", "amount", "source", "payer", "bank_reference", "recorded_by"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "issued_on", "due_on", "total", "status", "reverse_charge"]
    list_filter = ["status", "reverse_charge", "issued_on"]
    list_select_related = ["customer"]
    search_fields = ["number", "customer__name", "structured_communication"]
    date_hierarchy = "issued_on"
    inlines = [InvoiceLineInline, PaymentInline]
    readonly_fields = [f.name for f in Invoice._meta.fields if f.name != "id"]
    show_full_result_count = False

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
    list_display = ["received_on", "invoice", "amount", "source", "payer", "recorded_by"]
    list_filter = ["source"]
    list_select_related = ["invoice", "recorded_by"]
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
