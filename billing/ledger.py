"""The credit ledger: append-only entries and a stored balance that always equals their sum.

Every movement locks the customer's account row, so concurrent spends neither overdraw it nor
lose an entry; a CHECK constraint refuses a negative balance even if a bug tried. A grant with
an idempotency key (e.g. ``invoice:42``) happens once, however often it is applied.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Customer, User
from billing.models import CreditAccount, LedgerEntry


class InsufficientCredits(Exception):
    """The balance cannot pay: nothing was charged."""

    def __init__(self, *, balance: int, needed: int):
        self.balance, self.needed = balance, needed
        super().__init__(
            _("%(needed)d credits are needed but the balance is %(balance)d.") % {"needed": needed, "balance": balance}
        )


def account_of(customer: Customer) -> CreditAccount:
    account, _created = CreditAccount.objects.get_or_create(customer=customer)
    return account


def balance(customer: Customer) -> int:
    account = CreditAccount.objects.filter(customer=customer).only("balance").first()
    return account.balance if account else 0


def _locked_account(customer: Customer) -> CreditAccount:
    account_of(customer)
    return CreditAccount.objects.select_for_update().get(customer=customer)


def _write(account: CreditAccount, kind: str, credits: int, *, reason: str, by: User | None, key, **links):
    entry = LedgerEntry(
        account=account, kind=kind, credits=credits, balance_after=account.balance, reason=reason[:255],
        actor=by, idempotency_key=key, created_at=timezone.now(), **links,
    )  # fmt: skip
    entry.save()
    return entry


def grant(
    customer: Customer, credits: int, *, reason: str, by: User | None = None, key: str | None = None, **links
) -> LedgerEntry:
    """Add credits. With ``key``, a second grant for the same key returns the first entry."""
    if credits <= 0:
        raise ValueError("A grant adds a positive number of credits.")
    if key is not None and (existing := LedgerEntry.objects.filter(idempotency_key=key).first()):
        return existing
    try:
        with transaction.atomic():
            account = _locked_account(customer)
            account.balance += credits
            account.save(update_fields=["balance", "updated_at"])
            return _write(account, LedgerEntry.Kind.GRANT, credits, reason=reason, by=by, key=key, **links)
    except IntegrityError:
        # Another process granted for the same key between our check and our insert.
        if key is not None and (existing := LedgerEntry.objects.filter(idempotency_key=key).first()):
            return existing
        raise


@transaction.atomic
def spend(
    customer: Customer, credits: int, *, reason: str, by: User | None = None, key: str | None = None, **links
) -> LedgerEntry:
    """Take credits, or raise InsufficientCredits and change nothing."""
    if credits <= 0:
        raise ValueError("A spend takes a positive number of credits.")
    account = _locked_account(customer)
    if account.balance < credits:
        raise InsufficientCredits(balance=account.balance, needed=credits)
    account.balance -= credits
    account.save(update_fields=["balance", "updated_at"])
    return _write(account, LedgerEntry.Kind.SPEND, -credits, reason=reason, by=by, key=key, **links)
