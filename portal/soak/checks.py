"""After the soak: every accepted write is in the database, the ledger equals the balances, every
remark's e-mail was sent, errors happened only where a fault allows them, and only as the error page."""

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
    return failures


def _count(errors) -> dict:
    counts = {}
    for phase, *_rest in errors:
        counts[phase] = counts.get(phase, 0) + 1
    return counts
