"""Charging interventions in service credits (art. 7.4 and annex 1)."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing import ledger
from billing.models import LedgerEntry
from support import charges, tickets
from support.models import InterventionType, Quote, Status, TimeEntry
from tests.conftest import client_for

BXL = ZoneInfo("Europe/Brussels")
NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=BXL)


def open_ticket(owner, code: str, priority: str = "standard"):
    customer = owner.memberships.get().customer
    return tickets.open_ticket(
        customer=customer, opened_by=owner, reason=InterventionType.objects.get(code=code), priority=priority,
        subject=f"About {code}", description="Please.", now=NOW,
    )  # fmt: skip


@pytest.fixture
def migration(owner):
    """Annex 1: internal website migration, 2 (Standard) / 3 (Express) credits per started 15 minutes."""
    return open_ticket(owner, "hosting-internal-migration", "express")


@pytest.fixture
def credits_100(customer):
    ledger.grant(customer, 100, reason="Pack 100")


def log(ticket, staff, minutes: int, note: str = "") -> TimeEntry:
    return charges.log_time(ticket=ticket, staff=staff, minutes=minutes, note=note)


@pytest.mark.django_db
def test_art_7_4_time_costs_the_priority_rate_per_started_15_minutes_of_the_whole_ticket(
    migration, staff_user, customer, credits_100
):
    first = log(migration, staff_user, 20, "Copied the files")
    assert (first.credits, first.charge) == (6, TimeEntry.Charge.CHARGED)  # 2 started quarters at 3 (Express)
    second = log(migration, staff_user, 10, "Checked the site")
    assert (second.credits, second.charge) == (0, TimeEntry.Charge.NOT_CHARGED)  # 30 minutes: still 2 quarters
    third = log(migration, staff_user, 1, "Cleared the cache")
    assert (third.credits, third.charge) == (3, TimeEntry.Charge.CHARGED)  # 31 minutes: a third quarter starts
    assert ledger.balance(customer) == 91
    spends = LedgerEntry.objects.filter(kind="spend").order_by("pk")
    assert [(e.credits, e.ticket, e.time_entry, e.actor) for e in spends] == [
        (-6, migration, first, staff_user), (-3, migration, third, staff_user),
    ]  # fmt: skip


@pytest.mark.django_db
def test_annex_1_the_standard_rate_applies_to_a_standard_ticket(owner, staff_user, customer, credits_100):
    ticket = open_ticket(owner, "hosting-internal-migration", "standard")
    assert log(ticket, staff_user, 45).credits == 6  # 3 quarters at 2
    assert log(ticket, staff_user, 15).credits == 2
    assert ledger.balance(customer) == 92


@pytest.mark.django_db
def test_art_7_4_each_entry_pays_at_the_priority_of_the_ticket_when_it_is_logged(
    owner, staff_user, customer, credits_100
):
    ticket = open_ticket(owner, "hosting-internal-migration", "standard")
    assert log(ticket, staff_user, 15).credits == 2
    tickets.change_priority(ticket=ticket, priority="express", by=staff_user)
    assert log(ticket, staff_user, 15).credits == 3
    assert ledger.balance(customer) == 95


@pytest.mark.django_db
@pytest.mark.parametrize(("priority", "rate"), [("standard", 2), ("express", 3)])
def test_annex_1_a_per_intervention_reason_costs_its_rate_once_per_ticket(
    owner, staff_user, customer, credits_100, priority, rate
):
    ticket = open_ticket(owner, "domains-records-update", priority)
    assert log(ticket, staff_user, 5).credits == rate
    assert log(ticket, staff_user, 60).credits == 0
    assert ledger.balance(customer) == 100 - rate
    other = open_ticket(owner, "domains-records-update", priority)
    assert log(other, staff_user, 5).credits == rate  # once per ticket, not once per customer


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "priority"), [("hosting-site-down", "express"), ("hosting-information", "standard"),
                           ("ssl-hosting-integration", "standard")],  # 0 credits at Standard in annex 1
)  # fmt: skip
def test_annex_1_free_work_costs_nothing_even_without_credits(owner, staff_user, customer, code, priority):
    ticket = open_ticket(owner, code, priority)
    entry = log(ticket, staff_user, 90)
    assert (entry.credits, entry.charge) == (0, TimeEntry.Charge.NOT_CHARGED)
    ticket.refresh_from_db()
    assert ticket.status != Status.AWAITING_CREDITS
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_art_7_4_on_quote_work_is_not_charged_by_time(owner, staff_user, customer, credits_100):
    ticket = open_ticket(owner, "hosting-external-migration")
    entry = log(ticket, staff_user, 120)
    assert (entry.credits, entry.charge) == (0, TimeEntry.Charge.ON_QUOTE)
    assert ledger.balance(customer) == 100


@pytest.mark.django_db
def test_only_a_positive_number_of_minutes_is_logged(migration, staff_user):
    with pytest.raises(ValidationError):
        log(migration, staff_user, 0)
    assert not TimeEntry.objects.exists()


@pytest.fixture
def quoted(owner, staff_user, django_capture_on_commit_callbacks):
    ticket = open_ticket(owner, "hosting-external-migration")
    with django_capture_on_commit_callbacks(execute=True):
        quote = charges.propose_quote(ticket=ticket, credits=40, description="Move the site from the old host.",
                                      by=staff_user)  # fmt: skip
    return quote


@pytest.mark.django_db
def test_art_7_4_a_proposed_quote_is_mailed_to_the_customer(quoted):
    (message,) = [m for m in mail.outbox if "Quote" in m.subject]
    assert message.subject == f"[{quoted.ticket.number}] Quote: 40 credits to accept"
    assert "Move the site from the old host." in message.body
    assert quoted.ticket.get_absolute_url() in message.body


@pytest.mark.django_db
def test_a_quote_is_a_positive_number_of_credits(migration, staff_user):
    with pytest.raises(ValidationError):
        charges.propose_quote(ticket=migration, credits=0, description="x", by=staff_user)


@pytest.mark.django_db
def test_art_7_4_accepting_a_quote_in_the_portal_spends_its_credits_and_returns_the_costs_fragment(
    quoted, owner_client, owner, customer, credits_100, reauthenticated, django_capture_on_commit_callbacks
):
    ticket = quoted.ticket
    page = owner_client.get(ticket.get_absolute_url()).content.decode()
    assert reverse("quote_accept", args=[ticket.number, quoted.pk]) in page
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("quote_accept", args=[ticket.number, quoted.pk]), headers={"HX-Request": "true"}
        )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="costs"') and "<html" not in html
    assert "Accepted" in html and "This ticket has cost 40 credits so far." in html
    quoted.refresh_from_db()
    assert (quoted.status, quoted.decided_by) == (Quote.Status.ACCEPTED, owner)
    assert ledger.balance(customer) == 60
    entry = LedgerEntry.objects.get(kind="spend")
    assert (entry.credits, entry.ticket, entry.quote, entry.actor) == (-40, ticket, quoted, owner)
    assert [m.subject for m in mail.outbox] == [f"[{ticket.number}] Quote answered: Accepted"]


@pytest.mark.django_db
def test_a_quote_is_accepted_without_javascript_too(quoted, owner_client, credits_100, reauthenticated, customer):
    response = owner_client.post(reverse("quote_accept", args=[quoted.ticket.number, quoted.pk]))
    assert response.status_code == 302 and response.url == quoted.ticket.get_absolute_url()
    assert ledger.balance(customer) == 60


@pytest.mark.django_db
def test_art_7_4_declining_a_quote_charges_nothing(quoted, owner_client, customer, credits_100):
    response = owner_client.post(
        reverse("quote_decline", args=[quoted.ticket.number, quoted.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "Declined" in response.content.decode()
    quoted.refresh_from_db()
    assert quoted.status == Quote.Status.DECLINED
    assert ledger.balance(customer) == 100 and not LedgerEntry.objects.filter(kind="spend").exists()


@pytest.mark.django_db
def test_a_quote_is_answered_once(quoted, owner, customer, credits_100):
    charges.decline_quote(quote=quoted, by=owner)
    with pytest.raises(ValidationError, match="already been answered"):
        charges.accept_quote(quote=quoted, by=owner)
    with pytest.raises(ValidationError, match="already been answered"):
        charges.decline_quote(quote=quoted, by=owner)
    assert ledger.balance(customer) == 100


@pytest.mark.django_db
def test_accepting_a_quote_asks_for_the_password_again(quoted, owner_client, customer, credits_100):
    url = reverse("quote_accept", args=[quoted.ticket.number, quoted.pk])
    response = owner_client.post(url)
    assert response.status_code == 302 and response.url.startswith(reverse("account_reauthenticate"))
    htmx = owner_client.post(url, headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"].startswith(reverse("account_reauthenticate"))
    quoted.refresh_from_db()
    assert quoted.status == Quote.Status.PROPOSED and ledger.balance(customer) == 100


@pytest.mark.django_db
def test_a_technical_member_can_neither_accept_nor_decline_a_quote(quoted, technical_member, reauthenticated):
    client = client_for(technical_member)
    page = client.get(quoted.ticket.get_absolute_url()).content.decode()
    assert "Accept the quote" not in page
    for name in ("quote_accept", "quote_decline"):
        assert client.post(reverse(name, args=[quoted.ticket.number, quoted.pk])).status_code == 403
    quoted.refresh_from_db()
    assert quoted.status == Quote.Status.PROPOSED


@pytest.mark.django_db
def test_art_7_4_work_the_balance_cannot_pay_waits_for_credits_and_the_customer_is_told(
    migration, staff_user, owner_client, customer, django_capture_on_commit_callbacks
):
    ledger.grant(customer, 2, reason="Small pack")
    with django_capture_on_commit_callbacks(execute=True):
        entry = log(migration, staff_user, 20)
    assert (entry.credits, entry.charge) == (6, TimeEntry.Charge.AWAITING_CREDITS)
    assert ledger.balance(customer) == 2 and not LedgerEntry.objects.filter(kind="spend").exists()
    migration.refresh_from_db()
    assert migration.status == Status.AWAITING_CREDITS
    (message,) = [m for m in mail.outbox if "Credits needed" in m.subject]
    assert message.subject == f"[{migration.number}] Credits needed to continue"
    assert "needs 6 service credits, but your balance is 2" in message.body
    assert "http://" in message.body and reverse("buy_credits") in message.body
    page = owner_client.get(migration.get_absolute_url()).content.decode()
    assert "This ticket waits for service credits: your balance (2 credits) cannot pay the work." in page
    assert f'href="{reverse("buy_credits")}"' in page


@pytest.mark.django_db
def test_art_7_4_once_credits_are_bought_staff_charge_again_and_the_ticket_continues(
    migration, staff_user, customer, django_capture_on_commit_callbacks
):
    from billing import payments
    from tests.factories import CreditPackFactory, issue_invoice

    log(migration, staff_user, 20)  # 6 credits, balance 0
    log(migration, staff_user, 20)  # 40 minutes: one more quarter, 3 credits
    assert charges.charge_pending(ticket=migration, by=staff_user) == 0  # still nothing to pay with
    migration.refresh_from_db()
    assert migration.status == Status.AWAITING_CREDITS
    payments.mark_paid(invoice=issue_invoice(customer, pack=CreditPackFactory(credits=10)))
    assert charges.charge_pending(ticket=migration, by=staff_user) == 2
    migration.refresh_from_db()
    assert migration.status == Status.IN_PROGRESS
    assert ledger.balance(customer) == 1
    assert set(migration.time_entries.values_list("charge", flat=True)) == {TimeEntry.Charge.CHARGED}
    assert charges.charge_pending(ticket=migration, by=staff_user) == 0  # nothing is charged twice
    assert ledger.balance(customer) == 1


@pytest.mark.django_db
def test_credits_that_pay_only_part_of_the_waiting_work_charge_that_part(migration, staff_user, customer):
    log(migration, staff_user, 20)  # 6
    log(migration, staff_user, 15)  # 3
    ledger.grant(customer, 7, reason="Pack")
    assert charges.charge_pending(ticket=migration, by=staff_user) == 1  # the oldest first
    migration.refresh_from_db()
    assert migration.status == Status.AWAITING_CREDITS
    assert ledger.balance(customer) == 1
    assert list(migration.time_entries.values_list("charge", flat=True)) == ["charged", "awaiting_credits"]


@pytest.mark.django_db
def test_art_7_4_an_accepted_quote_the_balance_cannot_pay_waits_for_credits(quoted, owner, staff_user, customer):
    charges.accept_quote(quote=quoted, by=owner)
    quoted.refresh_from_db()
    assert quoted.status == Quote.Status.AWAITING_CREDITS
    ticket = quoted.ticket
    ticket.refresh_from_db()
    assert ticket.status == Status.AWAITING_CREDITS
    assert not LedgerEntry.objects.exists()
    ledger.grant(customer, 50, reason="Pack")
    assert charges.charge_pending(ticket=ticket, by=staff_user) == 1
    quoted.refresh_from_db()
    ticket.refresh_from_db()
    assert (quoted.status, ticket.status, ledger.balance(customer)) == (Quote.Status.ACCEPTED, Status.IN_PROGRESS, 10)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_art_7_4_the_ticket_page_lists_the_costs_entry_by_entry(migration, staff_user, owner_client, customer):
    ledger.grant(customer, 100, reason="Pack")
    log(migration, staff_user, 20, "Copied the files")
    log(migration, staff_user, 10, "Checked the site")
    log(migration, staff_user, 1, "Cleared the cache")
    page = owner_client.get(migration.get_absolute_url()).content.decode()
    for note, minutes, credits, charge in [
        ("Copied the files", 20, 6, "Charged"), ("Checked the site", 10, 0, "Nothing to charge"),
        ("Cleared the cache", 1, 3, "Charged"),
    ]:  # fmt: skip
        assert (
            f'<td>{note}</td><td class="number">{minutes}</td><td class="number">{credits}</td><td>{charge}</td>'
        ) in page
    assert "This ticket has cost 9 credits so far." in page
    overview = owner_client.get(reverse("billing")).content.decode()
    assert overview.count(f'href="{migration.get_absolute_url()}"') == 2  # each spend links back to the ticket
