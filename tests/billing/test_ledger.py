"""The credit ledger (art. 7.4): append-only entries, a balance that is their sum and never negative."""

import pytest
from allauth.mfa.models import Authenticator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse

from billing import ledger
from billing.models import CreditAccount, LedgerEntry
from tests.conftest import client_for


def sum_of_entries(customer) -> int:
    return LedgerEntry.objects.filter(account__customer=customer).aggregate(total=Sum("credits"))["total"] or 0


@pytest.mark.django_db
def test_a_customer_without_an_account_has_a_balance_of_zero(customer):
    assert ledger.balance(customer) == 0


@pytest.mark.django_db
def test_the_balance_equals_the_sum_of_the_entries_after_grants_and_spends(customer, owner):
    ledger.grant(customer, 10, reason="Pack", by=owner)
    ledger.spend(customer, 3, reason="Migration", by=owner)
    ledger.grant(customer, 5, reason="Goodwill")
    ledger.spend(customer, 12, reason="Everything left")
    assert ledger.balance(customer) == 0 == sum_of_entries(customer)
    entries = list(LedgerEntry.objects.order_by("pk"))
    assert [(e.kind, e.credits, e.balance_after) for e in entries] == [
        ("grant", 10, 10), ("spend", -3, 7), ("grant", 5, 12), ("spend", -12, 0),
    ]  # fmt: skip
    assert (entries[0].actor, entries[0].reason) == (owner, "Pack")


@pytest.mark.django_db
def test_art_7_4_spending_more_than_the_balance_raises_and_changes_nothing(customer):
    ledger.grant(customer, 5, reason="Pack")
    with pytest.raises(ledger.InsufficientCredits) as raised:
        ledger.spend(customer, 6, reason="Too much")
    assert (raised.value.balance, raised.value.needed) == (5, 6)
    assert "6 credits are needed but the balance is 5" in str(raised.value)
    assert ledger.balance(customer) == 5 == sum_of_entries(customer)
    assert LedgerEntry.objects.count() == 1


@pytest.mark.django_db
def test_spending_without_any_credit_creates_nothing(customer):
    with pytest.raises(ledger.InsufficientCredits):
        ledger.spend(customer, 1, reason="Nothing to pay with")
    assert not LedgerEntry.objects.exists()
    assert ledger.balance(customer) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("credits", [0, -3])
def test_grants_and_spends_take_a_positive_number_of_credits(customer, credits):
    with pytest.raises(ValueError):
        ledger.grant(customer, credits, reason="x")
    with pytest.raises(ValueError):
        ledger.spend(customer, credits, reason="x")
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_the_database_refuses_a_negative_balance(customer):
    ledger.grant(customer, 2, reason="Pack")
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditAccount.objects.filter(customer=customer).update(balance=-1)
    assert ledger.balance(customer) == 2


@pytest.mark.django_db
def test_the_database_refuses_an_entry_with_a_negative_balance_after_or_the_wrong_sign(customer):
    account = ledger.account_of(customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.bulk_create([LedgerEntry(account=account, kind="spend", credits=-1, balance_after=-1)])
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.bulk_create([LedgerEntry(account=account, kind="grant", credits=-1, balance_after=0)])


@pytest.mark.django_db
def test_entries_are_append_only(customer):
    entry = ledger.grant(customer, 10, reason="Pack")
    entry.credits = 1000
    with pytest.raises(ValidationError, match="append-only"):
        entry.save()
    with pytest.raises(ValidationError, match="append-only"):
        LedgerEntry.objects.get(pk=entry.pk).delete()
    assert LedgerEntry.objects.get(pk=entry.pk).credits == 10


@pytest.mark.django_db
def test_a_grant_with_the_same_key_twice_grants_once(customer):
    first = ledger.grant(customer, 10, reason="Invoice 2026-00001 paid", key="invoice:1")
    second = ledger.grant(customer, 10, reason="Invoice 2026-00001 paid", key="invoice:1")
    assert second.pk == first.pk
    assert ledger.balance(customer) == 10 == sum_of_entries(customer)
    ledger.grant(customer, 10, reason="Invoice 2026-00002 paid", key="invoice:2")
    assert ledger.balance(customer) == 20


@pytest.mark.django_db
def test_balances_are_per_customer(customer, other_customer):
    ledger.grant(customer, 10, reason="Pack")
    ledger.grant(other_customer, 3, reason="Pack")
    ledger.spend(other_customer, 3, reason="Work")
    assert (ledger.balance(customer), ledger.balance(other_customer)) == (10, 0)


@pytest.fixture
def staff_client(staff_user):
    Authenticator.objects.create(user=staff_user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    return client_for(staff_user)


@pytest.mark.django_db
def test_staff_read_the_ledger_in_the_admin_but_cannot_add_change_or_delete(staff_client, customer):
    entry = ledger.grant(customer, 10, reason="Pack 10")
    assert "Pack 10" in staff_client.get(reverse("admin:billing_ledgerentry_changelist")).content.decode()
    change_url = reverse("admin:billing_ledgerentry_change", args=[entry.pk])
    page = staff_client.get(change_url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()  # read-only view
    assert staff_client.post(change_url, {"reason": "changed", "credits": 1000}).status_code == 403
    delete_url = reverse("admin:billing_ledgerentry_delete", args=[entry.pk])
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert staff_client.get(reverse("admin:billing_ledgerentry_add")).status_code == 403
    changelist = staff_client.post(
        reverse("admin:billing_ledgerentry_changelist"), {"action": "delete_selected", "_selected_action": [entry.pk]}
    )
    assert changelist.status_code in (200, 302, 403)
    entry.refresh_from_db()
    assert (entry.credits, entry.reason) == (10, "Pack 10")
    assert ledger.balance(customer) == 10


@pytest.mark.django_db
def test_staff_cannot_edit_a_credit_account_balance_in_the_admin(staff_client, customer):
    ledger.grant(customer, 10, reason="Pack")
    account = CreditAccount.objects.get(customer=customer)
    change_url = reverse("admin:billing_creditaccount_change", args=[account.pk])
    assert staff_client.post(change_url, {"balance": 1000}).status_code == 403
    assert staff_client.get(reverse("admin:billing_creditaccount_add")).status_code == 403
    assert ledger.balance(customer) == 10
