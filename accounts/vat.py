"""VAT numbers, checked with python-stdnum for the customer's country."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError


def is_eu_country(country: str) -> bool:
    return country.lower() in eu_vat.MEMBER_STATES


def normalize_vat_number(country: str, number: str) -> str:
    """Return the compact VAT number (with the country prefix in the EU) or raise ValidationError."""
    number = (number or "").strip()
    if not number:
        return ""
    country = country.upper()
    if is_eu_country(country):
        compact = "".join(ch for ch in number.upper() if ch.isalnum())
        if not compact[:2].isalpha():
            compact = country + compact
        if compact[:2].upper() != country and not (country == "GR" and compact[:2] == "EL"):
            raise ValidationError(
                _("This VAT number belongs to another country than the customer's (%(country)s)."),
                params={"country": country},
                code="vat_country",
            )
        try:
            return eu_vat.validate(compact)
        except StdnumError as error:
            raise ValidationError(_("This is not a valid VAT number: %(error)s"), params={"error": error}) from error
    module = get_cc_module(country.lower(), "vat")
    if module is None:
        # No checker for this country: keep the number as given, without spaces.
        return "".join(number.split())
    try:
        return module.validate(number)
    except StdnumError as error:
        raise ValidationError(_("This is not a valid VAT number: %(error)s"), params={"error": error}) from error
