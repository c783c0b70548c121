"""Concurrent spending, granting and invoicing against PostgreSQL, with real threads (make test-services).

Each thread has its own database connection (Django's connections are per thread) and closes it
at the end; a barrier releases them together so that they really race.
"""

import datetime
import os
import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from billing import invoices, ledger, payments
from billing.bank_statements import import_statement
from billing.models import Invoice, LedgerEntry, Payment
from tests.billing.test_bank_statements import COMMUNICATION_A, SAMPLE
from tests.factories import CreditPackFactory, issue_invoice

DATABASE_URL = os.environ.get("DATABASE_URL", "")
POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql://"))

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not POSTGRES, reason="DATABASE_URL is not PostgreSQL: run make test-services"),
]


def race(count: int, work: Callable[[int], object]) -> tuple[list, list[BaseException]]:
    """Run ``work(i)`` in ``count`` threads started together; return (results, errors)."""
    barrier = threading.Barrier(count)
    results, errors, lock = [], [], threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            result = work(i)
            with lock:
                results.append(result)
        except BaseException as error:  # collected: the test asserts there is none
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results, errors


def sum_of_entries(customer) -> int:
    return LedgerEntry.objects.filter(account__customer=customer).aggregate(total=Sum("credits"))["total"] or 0


@pytest.mark.django_db(transaction=True)
def test_art_7_4_fifty_concurrent_spends_of_3_on_100_leave_exactly_1_credit(customer):
    ledger.grant(customer, 100, reason="Pack 100")

    def spend(i: int) -> str:
        try:
            ledger.spend(customer, 3, reason=f"Spend {i}")
        except ledger.InsufficientCredits:
            return "refused"
        return "spent"

    results, errors = race(50, spend)
    assert errors == []
    assert (results.count("spent"), results.count("refused")) == (33, 17)
    assert ledger.balance(customer) == 1 == sum_of_entries(customer)
    spends = LedgerEntry.objects.filter(kind="spend")
    assert spends.count() == 33
    # Every spend saw the balance the previous one left: no lost update, no negative balance.
    assert sorted(spends.values_list("balance_after", flat=True)) == list(range(1, 100, 3))


@pytest.mark.django_db(transaction=True)
def test_the_same_invoice_keyed_grant_applied_by_ten_threads_grants_once(customer):
    results, errors = race(10, lambda i: ledger.grant(customer, 10, reason="Invoice paid", key="invoice:42").pk)
    assert errors == []
    assert len(set(results)) == 1
    assert LedgerEntry.objects.count() == 1
    assert ledger.balance(customer) == 10 == sum_of_entries(customer)


@pytest.mark.django_db(transaction=True)
def test_an_invoice_marked_paid_by_ten_threads_grants_its_credits_and_calls_its_hooks_once(customer, monkeypatch):
    invoice = issue_invoice(customer, pack=CreditPackFactory(credits=10))
    calls = []
    monkeypatch.setattr(payments, "PAID_HOOKS", [lambda paid: calls.append(paid.number)])
    _results, errors = race(10, lambda i: payments.mark_paid(invoice=invoice))
    assert errors == []
    assert calls == [invoice.number]
    assert ledger.balance(customer) == 10 and LedgerEntry.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_invoices_issued_concurrently_are_numbered_1_to_20_without_gap_or_duplicate(customer):
    pack = CreditPackFactory()
    today = datetime.date(2026, 11, 27)
    _results, errors = race(
        20, lambda i: invoices.buy_credit_pack(customer=customer, pack=pack, by=None, today=today).number
    )
    assert errors == []
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"2026-{n:05d}" for n in range(1, 21)]


@pytest.mark.django_db(transaction=True)
def test_the_same_statement_imported_by_four_workers_at_once_records_each_payment_once(customer):
    invoice = issue_invoice(
        customer, pack=CreditPackFactory(credits=10, price=Decimal("100.00")), communication=COMMUNICATION_A
    )
    _results, errors = race(4, lambda i: import_statement(SAMPLE.read_bytes()))
    assert errors == []
    assert Payment.objects.filter(invoice=invoice).count() == 1
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert ledger.balance(customer) == 10
