"""Annex 1 is data: the migration loads every row as the contract prices it."""

import pytest

from support.catalogue import ANNEX_1
from support.models import InterventionType, Priority


@pytest.mark.django_db
def test_annex_1_every_row_of_the_contract_is_in_the_catalogue():
    assert InterventionType.objects.count() == len(ANNEX_1) == 25
    for group, code, name_fr, label, kind, unit, standard, express, applies in ANNEX_1:
        row = InterventionType.objects.get(code=code)
        assert (row.service_group, row.name_fr, row.label, row.kind, row.unit) == (group, name_fr, label, kind, unit)
        assert (row.standard_credits, row.express_credits, row.response_time_applies) == (standard, express, applies)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "code",
    ["hosting-coding", "hosting-hacked", "hosting-external-migration", "hosting-restore-backup", "plesk-migration",
     "m365-mail-migration"],
)  # fmt: skip
def test_annex_1_rows_marked_1_have_no_response_time(code):
    assert not InterventionType.objects.get(code=code).response_time_applies


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "priority", "text"),
    [
        ("hosting-site-down", Priority.EXPRESS, "free"),
        ("hosting-internal-migration", Priority.STANDARD, "2 credits per started 15 minutes"),
        ("hosting-internal-migration", Priority.EXPRESS, "3 credits per started 15 minutes"),
        ("hosting-restore-backup", Priority.EXPRESS, "5 credits per started 15 minutes"),
        ("domains-records-update", Priority.STANDARD, "2 credits per intervention"),
        ("domains-records-update", Priority.EXPRESS, "3 credits per intervention"),
        ("ssl-hosting-integration", Priority.STANDARD, "free"),
        ("ssl-hosting-integration", Priority.EXPRESS, "3 credits per started 15 minutes"),
        ("m365-mail-migration", Priority.STANDARD, "on quote: you accept the price before any work starts"),
    ],
)
def test_annex_1_prices_read_as_the_contract_says(code, priority, text):
    assert InterventionType.objects.get(code=code).price_text(priority) == text


@pytest.mark.django_db
def test_annex_1_labels_are_translated_through_the_catalogues():
    from django.utils import translation

    row = InterventionType.objects.get(code="hosting-restore-backup")
    with translation.override("fr"):
        assert row.display_label == "Restauration de fichiers à partir d'une sauvegarde"
    with translation.override("nl"):
        assert row.display_label not in ("", "Restore files from a backup")
    with translation.override("en"):
        assert row.display_label == "Restore files from a backup"
