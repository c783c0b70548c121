import csv
import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing import epc, invoices, ledger, pdf
from billing.models import CreditPack, Invoice, LedgerEntry
from portal.reauth import sensitive
from portal.scoping import customer_required, get_scoped_or_404, scoped


def _month(value: str) -> datetime.date | None:
    try:
        return datetime.datetime.strptime(value, "%Y-%m").date()
    except (TypeError, ValueError):
        return None


def _entries(request: HttpRequest, month: datetime.date | None):
    entries = scoped(request, LedgerEntry).select_related("ticket", "invoice", "actor")
    if month is not None:
        entries = entries.filter(created_at__year=month.year, created_at__month=month.month)
    return entries


@customer_required("view")
def overview(request: HttpRequest) -> HttpResponse:
    month = _month(request.GET.get("month", ""))
    page = Paginator(_entries(request, month), 25).get_page(request.GET.get("page"))
    context = {
        "balance": ledger.balance(request.customer),
        "page": page,
        "month": month.strftime("%Y-%m") if month else "",
        "unpaid": scoped(request, Invoice).filter(status=Invoice.Status.ISSUED).order_by("due_on")[:5],
    }
    template = "billing/overview.html#ledger" if request.htmx else "billing/overview.html"
    return render(request, template, context)


@customer_required("view")
def ledger_csv(request: HttpRequest) -> HttpResponse:
    month = _month(request.GET.get("month", ""))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"credits-{month:%Y-%m}.csv" if month else "credits.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow([_("Date"), _("Credits"), _("Balance after"), _("Reason"), _("Ticket"), _("Invoice")])
    for entry in _entries(request, month).order_by("created_at", "pk").iterator(chunk_size=500):
        writer.writerow([
            timezone.localtime(entry.created_at).isoformat(timespec="seconds"), entry.credits, entry.balance_after,
            entry.reason, entry.ticket.number if entry.ticket_id else "",
            entry.invoice.number if entry.invoice_id else "",
        ])  # fmt: skip
    return response


@customer_required("view")
def buy_credits(request: HttpRequest) -> HttpResponse:
    packs = CreditPack.objects.filter(is_active=True)
    return render(request, "billing/buy.html", {"packs": packs, "balance": ledger.balance(request.customer)})


@require_POST
@customer_required("spend")
@sensitive
def buy_credits_post(request: HttpRequest) -> HttpResponse:
    pack_id = request.POST.get("pack", "")
    pack = get_object_or_404(CreditPack, pk=pack_id if pack_id.isdecimal() else 0, is_active=True)
    try:
        invoice = invoices.buy_credit_pack(customer=request.customer, pack=pack, by=request.user)
    except (ValueError, ValidationError) as error:
        messages.error(request, str(error))
        return redirect("buy_credits")
    messages.success(
        request,
        _("Invoice %(number)s is issued. The %(credits)d credits are added as soon as it is paid.")
        % {"number": invoice.number, "credits": pack.credits},
    )
    return redirect(invoice)


@customer_required("view")
def invoice_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(scoped(request, Invoice), 25).get_page(request.GET.get("page"))
    return render(request, "billing/invoice_list.html", {"page": page})


@customer_required("view")
def invoice_detail(request: HttpRequest, number: str) -> HttpResponse:
    invoice = get_scoped_or_404(request, Invoice, number=number)
    context = {
        "invoice": invoice, "lines": invoice.lines.all(), "qr": None, "iban": settings.BILLING_IBAN,
        "bic": settings.BILLING_BIC, "beneficiary": settings.BILLING_BENEFICIARY,
        "company_address": settings.BILLING_COMPANY_ADDRESS, "company_vat": settings.BILLING_COMPANY_VAT,
    }  # fmt: skip
    if invoice.status == Invoice.Status.ISSUED:
        context["qr"] = epc.svg_data_uri(epc.for_invoice(invoice))
    return render(request, "billing/invoice_detail.html", context)


@customer_required("view")
def invoice_pdf(request: HttpRequest, number: str) -> HttpResponse:
    invoice = get_scoped_or_404(request, Invoice, number=number)
    response = HttpResponse(pdf.render(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="invoice-{invoice.number}.pdf"'
    return response
