"""The EPC QR code ("GiroCode") that banking apps scan to prefill a SEPA credit transfer."""

import base64
import io
from decimal import Decimal

import qrcode
import qrcode.image.svg
from django.conf import settings


def payload(*, amount: Decimal, communication: str, beneficiary: str, iban: str, bic: str) -> str:
    """EPC069-12 version 002: the Belgian structured communication goes in the remittance text."""
    if not Decimal("0.01") <= amount <= Decimal("999999999.99"):
        raise ValueError("An EPC QR code carries an amount from 0.01 to 999999999.99 EUR.")
    # The remittance text is the last populated element: EPC069-12 wants no separator after it.
    lines = ["BCD", "002", "1", "SCT", bic, beneficiary[:70], iban.replace(" ", ""), f"EUR{amount:.2f}", "", "",
             communication[:140]]  # fmt: skip
    return "\n".join(lines)


def for_invoice(invoice) -> str:
    return payload(
        amount=invoice.total,
        communication=invoice.communication_display,
        beneficiary=settings.BILLING_BENEFICIARY,
        iban=settings.BILLING_IBAN,
        bic=settings.BILLING_BIC,
    )


def svg_data_uri(text: str) -> str:
    """An SVG image as a data: URI (the CSP allows data: images, not inline styles)."""
    image = qrcode.make(
        text, image_factory=qrcode.image.svg.SvgPathImage, error_correction=qrcode.constants.ERROR_CORRECT_M
    )
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def png_bytes(text: str) -> bytes:
    image = qrcode.make(text, error_correction=qrcode.constants.ERROR_CORRECT_M)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
