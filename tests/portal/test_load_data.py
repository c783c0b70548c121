import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Sum

from accounts.models import Customer
from billing.models import CreditAccount
from services.models import DnsRecord
from support.models import Ticket


@pytest.mark.django_db
def test_it_generates_customers_whose_balances_equal_their_ledgers(settings):
    settings.DEBUG = True
    call_command("generate_load_data", "--customers", "3", "--seed", "5")
    assert Customer.objects.filter(name__startswith="Load 5-").count() == 3
    assert DnsRecord.objects.count() == 3 * 2 * 20 and Ticket.objects.count() == 3 * 20
    for account in CreditAccount.objects.all():
        assert account.balance == account.entries.aggregate(total=Sum("credits"))["total"]


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_data(settings):
    settings.DEBUG = True
    runs = []
    for _ in range(2):
        with transaction.atomic():
            call_command("generate_load_data", "--customers", "2", "--seed", "6", "--date", "2026-03-01")
            runs.append(list(Ticket.objects.order_by("pk").values_list("number", "subject", "priority", "status")))
            transaction.set_rollback(True)
    assert runs[0] == runs[1] and len(runs[0]) == 40


@pytest.mark.django_db
def test_it_refuses_without_debug_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("generate_load_data", "--customers", "1")
