"""The invoice as a PDF (fpdf2, pure Python: no system library to install)."""

import io

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _
from fpdf import FPDF

from billing import epc


def _latin1(text: str) -> str:
    # The PDF core fonts speak Latin-1; anything else becomes "?" rather than failing the download.
    return (
        str(text).replace("€", "EUR").replace("—", "-").replace("–", "-").encode("latin-1", "replace").decode("latin-1")
    )


def render(invoice, language: str | None = None) -> bytes:
    with translation.override(language or invoice.customer.preferred_language):
        pdf = FPDF(format="A4")
        pdf.set_auto_page_break(auto=True, margin=20)
        pdf.add_page()
        pdf.set_title(_latin1(_("Invoice %(number)s") % {"number": invoice.number}))

        def write(text: str, size: int = 10, style: str = "", height: float = 5, **kwargs) -> None:
            pdf.set_font("Helvetica", style=style, size=size)
            pdf.multi_cell(0, height, _latin1(text), new_x="LMARGIN", new_y="NEXT", **kwargs)

        write(settings.BILLING_BENEFICIARY, size=14, style="B", height=7)
        write(f"{settings.BILLING_COMPANY_ADDRESS}\n{_('VAT number')}: {settings.BILLING_COMPANY_VAT}")
        pdf.ln(6)
        write(_("Invoice %(number)s") % {"number": invoice.number}, size=16, style="B", height=8)
        write(
            f"{_('Issued on')}: {formats.date_format(invoice.issued_on)}\n"
            f"{_('Due on')}: {formats.date_format(invoice.due_on)}"
        )
        pdf.ln(4)
        to = f"{invoice.customer_name}\n{invoice.customer_address}"
        if invoice.customer_vat_number:
            to += f"\n{_('VAT number')}: {invoice.customer_vat_number}"
        write(to)
        pdf.ln(6)
        pdf.set_font("Helvetica", style="B", size=10)
        widths = (100, 20, 35, 35)
        for width, title in zip(widths, [_("Description"), _("Quantity"), _("Unit price"), _("Amount")], strict=True):
            pdf.cell(width, 7, _latin1(title), border="B")
        pdf.ln()
        pdf.set_font("Helvetica", size=10)
        for line in invoice.lines.all():
            pdf.cell(widths[0], 7, _latin1(line.description[:60]))
            pdf.cell(widths[1], 7, str(line.quantity), align="R")
            pdf.cell(widths[2], 7, f"{formats.number_format(line.unit_price, 2)} EUR", align="R")
            pdf.cell(widths[3], 7, f"{formats.number_format(line.amount, 2)} EUR", align="R")
            pdf.ln()
        pdf.ln(2)
        totals = [
            (_("Total excl. VAT"), invoice.subtotal),
            (_("VAT %(rate)s %%") % {"rate": formats.number_format(invoice.vat_rate, 0)}, invoice.vat_amount),
            (_("Total incl. VAT"), invoice.total),
        ]
        for label, amount in totals:
            pdf.cell(sum(widths[:3]), 7, _latin1(label), align="R")
            pdf.cell(widths[3], 7, f"{formats.number_format(amount, 2)} EUR", align="R")
            pdf.ln()
        if invoice.vat_note:
            pdf.ln(2)
            write(invoice.vat_note, size=9, style="I")
        pdf.ln(6)
        write(_("Payment"), size=12, style="B", height=6)
        write(
            _("Please transfer %(amount)s EUR to %(iban)s (BIC %(bic)s, %(beneficiary)s) with the structured "
              "communication %(communication)s before %(due)s.") % {
                "amount": formats.number_format(invoice.total, 2), "iban": settings.BILLING_IBAN,
                "bic": settings.BILLING_BIC, "beneficiary": settings.BILLING_BENEFICIARY,
                "communication": invoice.communication_display, "due": formats.date_format(invoice.due_on),
            }
        )  # fmt: skip
        pdf.ln(2)
        pdf.image(io.BytesIO(epc.png_bytes(epc.for_invoice(invoice))), w=35)
        return bytes(pdf.output())
