import pytest
from django.core.exceptions import ValidationError

from accounts.vat import normalize_vat_number
from tests.factories import CustomerFactory


@pytest.mark.parametrize(
    ("country", "given", "stored"),
    [
        ("BE", "BE 0403.170.701", "BE0403170701"),
        ("BE", "0403170701", "BE0403170701"),
        ("NL", "NL004495445B01", "NL004495445B01"),
        ("FR", "FR 40 303 265 045", "FR40303265045"),
    ],
)
def test_a_valid_vat_number_is_stored_compact_with_its_country_prefix(country, given, stored):
    assert normalize_vat_number(country, given) == stored


@pytest.mark.parametrize(
    ("country", "number"),
    [("BE", "BE0403170702"), ("BE", "NL004495445B01"), ("NL", "NL004495446B01"), ("CH", "CHE-123.456.789 MWST")],
)
def test_an_invalid_vat_number_or_one_of_another_country_is_refused(country, number):
    with pytest.raises(ValidationError):
        normalize_vat_number(country, number)


def test_a_swiss_vat_number_is_checked_with_the_swiss_rules():
    assert normalize_vat_number("CH", "CHE-107.787.577 IVA") == "CHE107787577IVA"


@pytest.mark.django_db
def test_customer_clean_normalises_and_reports_on_the_vat_field():
    customer = CustomerFactory.build(country="BE", vat_number="be 0403 170 701")
    customer.full_clean()
    assert customer.vat_number == "BE0403170701"
    customer.vat_number = "BE123"
    with pytest.raises(ValidationError) as error:
        customer.full_clean()
    assert "vat_number" in error.value.message_dict


@pytest.mark.django_db
def test_art_6_1_2_establishment_in_the_eu_follows_the_country():
    assert CustomerFactory.build(country="BE").is_established_in_eu
    assert CustomerFactory.build(country="DE").is_established_in_eu
    assert not CustomerFactory.build(country="CH").is_established_in_eu
    assert not CustomerFactory.build(country="US").is_established_in_eu
