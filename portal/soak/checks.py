"""After the soak: every accepted write is in the database, the ledger equals the balances, every
remark's e-mail was sent, errors happened only where a fault allows them, and only as the error page.

Spending (quotes accepted from parallel threads): every accept the page confirmed is one ledger entry,
no quote is charged twice, a refusal happened only when the balance could not pay and always said so,
no balance or entry ever went below zero, and each account's entries chain up to its balance."""

import os
import statistics
import time
from pathlib import Path

# Phases in which a 5xx is expected: PostgreSQL connections are being terminated under running requests.
ERRORS_ALLOWED = {"postgres-dropped"}


def _setup_django() -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    django.setup()


def run(*, customers, stats, signed_in, load_seconds, recovered, mail_dir: Path, log) -> list[str]:
    _setup_django()
    from django.db.models import Sum

    from billing.models import CreditAccount, Invoice
    from portal.soak.prepare import GRANTED
    from services.models import DnsRecord, LicenceChange, Service
    from support.models import Remark

    failures = []
    if signed_in != len(customers):
        failures.append(f"only {signed_in} of {len(customers)} customers could sign in")
    for phase, method, path, status, error_page in stats.errors:
        if phase not in ERRORS_ALLOWED:
            failures.append(f"{phase}: {method} {path} -> {status}")
        elif not error_page:
            failures.append(f"{phase}: {method} {path} -> {status} without the portal's error page")
    not_ok = [r.status_code if r is not None else "no answer" for r in recovered if r is None or r.status_code != 200]
    if not_ok:
        failures.append(f"after the faults, {len(not_ok)} dashboards did not answer 200: {not_ok[:5]}")

    remarks = dns = licences = invoices = 0
    for customer in customers:
        row, unknown = customer.row, customer.unknown
        bodies = set(Remark.objects.filter(ticket__number=row["ticket"], by_staff=False).values_list("body", flat=True))
        missing = [b for b in customer.remarks if b not in bodies]
        soak_bodies = {b for b in bodies if b.startswith("Soak remark ")}
        if missing:
            failures.append(f"{row['email']}: {len(missing)} accepted remarks missing")
        if len(soak_bodies) > len(customer.remarks) + unknown.get("remark", 0):
            failures.append(f"{row['email']}: more remarks than were sent")
        remarks += len(customer.remarks)
        values = dict(DnsRecord.objects.filter(zone__service_id=row["domain"]).values_list("pk", "value"))
        for pk, value in customer.records.items():
            if values.get(pk, "").strip('"') != value:
                failures.append(f"{row['email']}: DNS record {pk} is {values.get(pk)!r}, last accepted {value!r}")
        dns += len(customer.records)
        pack = Service.objects.get(pk=row["pack"])
        changes = LicenceChange.objects.filter(service=pack).order_by("pk")
        deltas = changes.aggregate(total=Sum("delta"))["total"]
        if pack.quantity != deltas or pack.quantity != changes.last().quantity_after:
            failures.append(f"{row['email']}: pack quantity {pack.quantity} disagrees with its licence changes")
        extra = pack.quantity - 5 - customer.licence_delta
        if not 0 <= abs(extra) <= unknown.get("licence", 0):
            failures.append(f"{row['email']}: {pack.quantity} licences, {5 + customer.licence_delta} accepted")
        licences += changes.count() - 1
        found = set(Invoice.objects.filter(customer_id=row["customer"]).values_list("number", flat=True))
        if set(customer.invoices) - found:
            failures.append(f"{row['email']}: accepted invoices missing: {set(customer.invoices) - found}")
        invoices += len(customer.invoices)
    accounts = CreditAccount.objects.annotate(total=Sum("entries__credits"))
    wrong = [(a.customer_id, a.balance, a.total) for a in accounts if a.balance != (a.total or 0)]
    if wrong:
        failures.append(f"ledger differs from the balance for {len(wrong)} customers: {wrong[:5]}")
    failures += _ledger_chains()
    spending = {"bursts": 0, "sent": 0, "spent": 0, "credits": 0, "refused": 0, "already answered": 0, "unknown": 0}
    for customer in customers:
        failures += _spending(customer, spending, granted=GRANTED)
    spending["overlapping"] = _overlapping([customer.row["quote_ticket"] for customer in customers])
    if spending["bursts"] and not spending["refused"]:
        failures.append("no accept was refused: the spending never tried to overdraw a balance")

    expected = {body: customer.remark_phases[body] for customer in customers for body in customer.remarks}
    deadline = time.monotonic() + 60  # the new worker picks up what the killed one had not acknowledged
    while True:
        text = "".join(path.read_text(errors="replace") for path in mail_dir.glob("*.log"))
        unsent = [body for body in expected if body not in text]
        if not unsent or time.monotonic() > deadline:
            break
        time.sleep(2)
    if unsent:
        phases = sorted({expected[body] for body in unsent})
        failures.append(f"{len(unsent)} of {len(expected)} remark e-mails never sent (phases: {phases})")

    latencies = sorted(stats.latencies)
    total = sum(stats.requests.values())
    log(f"customers: {len(customers)}, load phase {load_seconds:.0f} s, requests: {total} {stats.requests}")
    if latencies:
        p95 = latencies[int(len(latencies) * 0.95)]
        log(f"latency median {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    log(f"accepted writes: {remarks} remarks, {dns} DNS records, {licences} licence changes, {invoices} invoices")
    log(f"5xx or no answer: {len(stats.errors)} (by phase: {_count(stats.errors)}); e-mails checked: {len(expected)}")
    log(f"credit accounts checked against the ledger: {accounts.count()}")
    log(
        f"spending: {spending['bursts']} bursts of parallel accepts, {spending['sent']} accepts sent, "
        f"{spending['spent']} spent ({spending['credits']} credits), {spending['refused']} refused for want of "
        f"credits, {spending['already answered']} repeats told the quote was already answered, "
        f"{spending['unknown']} without an answer (faults); {spending['overlapping']} accepts began while another "
        f"of the same customer was between its start and its ledger entry"
    )
    return failures


def _overlapping(ticket_numbers: list[str]) -> int:
    """How many accepts provably ran at the same time as another of the same customer: a lower bound of
    the races (an accept also holds the account's lock after its ledger entry, until it commits)."""
    from billing.models import LedgerEntry
    from support.models import Quote

    written = dict(
        LedgerEntry.objects.filter(quote__ticket__number__in=ticket_numbers).values_list("quote_id", "created_at")
    )
    count = 0
    by_ticket: dict[int, list] = {}
    for quote in Quote.objects.filter(ticket__number__in=ticket_numbers, decided_at__isnull=False):
        by_ticket.setdefault(quote.ticket_id, []).append(quote)
    for quotes in by_ticket.values():
        for quote in quotes:
            others = [(o.decided_at, written[o.pk]) for o in quotes if o.pk != quote.pk and o.pk in written]
            count += any(start <= quote.decided_at <= end for start, end in others)
    return count


def _ledger_chains() -> list[str]:
    """Entries in the order they were written (under the account's row lock): each one's balance_after
    is the previous one plus its credits, never negative, and the last one is the account's balance."""
    from billing.models import CreditAccount, LedgerEntry

    broken, failures = [], []
    balances = dict(CreditAccount.objects.values_list("pk", "balance"))
    running: dict[int, int] = {}
    for pk, account, credits, after in LedgerEntry.objects.order_by("pk").values_list(
        "pk", "account_id", "credits", "balance_after"
    ):
        running[account] = running.get(account, 0) + credits
        if after != running[account] or after < 0:
            broken.append(f"ledger entry {pk}: balance after {after}, it and the entries before it add up to "
                          f"{running[account]}")  # fmt: skip
    for account, balance in balances.items():
        if balance < 0 or balance != running.get(account, 0):
            failures.append(
                f"credit account {account}: balance {balance}, its entries add up to {running.get(account)}"
            )
    if broken:
        failures.append(f"{len(broken)} ledger entries do not chain up, the first ones: {'; '.join(broken[:3])}")
    return failures


def _spending(customer, totals: dict, *, granted: int) -> list[str]:
    from billing.models import CreditAccount, LedgerEntry
    from support.models import Quote

    row, spends = customer.row, customer.spends
    email, failures = row["email"], []
    quotes = {q.pk: q for q in Quote.objects.filter(pk__in=[pk for pk, _credits in row["quotes"]])}
    charged: dict[int, list[int]] = {}
    for quote_id, credits in LedgerEntry.objects.filter(quote__in=quotes.values()).values_list("quote_id", "credits"):
        charged.setdefault(quote_id, []).append(credits)
    account = CreditAccount.objects.get(customer_id=row["customer"])
    grants = list(LedgerEntry.objects.filter(account=account, kind="grant").values_list("credits", flat=True))
    only_granted = grants == [granted]  # prepare's grant and nothing since (no credit-pack invoice is paid)
    undecided_unknown = 0
    for pk, quote in quotes.items():
        told = spends.outcomes.get(pk, [])
        entries = charged.get(pk, [])
        if quote.status == Quote.Status.ACCEPTED and entries != [-quote.credits]:
            failures.append(f"{email}: quote {pk} is accepted, its ledger entries are {entries}")
        if quote.status != Quote.Status.ACCEPTED and entries:
            failures.append(f"{email}: quote {pk} is {quote.status} but was charged {entries}")
        decided = [o for o in told if o in ("spent", "refused")]
        if len(decided) > 1:
            failures.append(f"{email}: quote {pk} was decided {len(decided)} times: {told}")
        if "spent" in decided and quote.status != Quote.Status.ACCEPTED:
            failures.append(f"{email}: quote {pk} was confirmed spent but is {quote.status}")
        if "refused" in decided and quote.status != Quote.Status.AWAITING_CREDITS:
            failures.append(f"{email}: quote {pk} was refused but is {quote.status}")
        if "refused" in decided and only_granted and quote.credits <= account.balance:
            # Nothing grants credits during the soak: the balance only went down after the refusal.
            failures.append(f"{email}: quote {pk} ({quote.credits}) refused, yet {account.balance} credits are left")
        if "already answered" in told and quote.status == Quote.Status.PROPOSED:
            failures.append(f"{email}: quote {pk} was said to be answered but is still proposed")
        unclear = [o for o in told if o not in ("spent", "refused", "already answered", "message lost")]
        if unclear:
            failures.append(f"{email}: accepting quote {pk} answered {unclear}")
        if quote.status != Quote.Status.PROPOSED and not decided:
            undecided_unknown += 1  # decided, but no request of the driver saw how
        totals["sent"] += len(told)
        totals["spent"] += decided.count("spent")
        totals["credits"] += quote.credits if "spent" in decided else 0
        totals["refused"] += decided.count("refused")
        totals["already answered"] += told.count("already answered")
    lost = sum(o.count("message lost") for o in spends.outcomes.values())
    if undecided_unknown > customer.unknown.get("spend", 0) + lost:
        failures.append(f"{email}: {undecided_unknown} quotes decided without the page saying so")
    if only_granted:
        spent = sum(q.credits for q in quotes.values() if q.status == Quote.Status.ACCEPTED)
        if account.balance != granted - spent:
            failures.append(f"{email}: balance {account.balance}, but {granted} granted and {spent} spent")
    totals["bursts"] += spends.bursts
    totals["unknown"] += customer.unknown.get("spend", 0)
    totals["sent"] += customer.unknown.get("spend", 0)
    return failures


def _count(errors) -> dict:
    counts = {}
    for phase, *_rest in errors:
        counts[phase] = counts.get(phase, 0) + 1
    return counts
