"""Importing ISO 20022 camt.053 bank statements: match credits by structured communication.

Each booked credit entry is identified by the bank's own reference (AcctSvcrRef, else
NtryRef, else a digest of its content), so importing the same statement again, or one that
overlaps it, records nothing twice.
"""

import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from defusedxml import DefusedXmlException, ElementTree
from django.db import transaction
from stdnum.be import ogm_vcs

from billing import payments
from billing.models import Invoice, Payment


class StatementError(ValueError):
    """The file is not a camt.053 statement we can read."""


@dataclass
class Entry:
    reference: str
    amount: Decimal
    currency: str
    booked_on: str
    communication: str
    payer: str


@dataclass
class ImportReport:
    paid: list[str] = field(default_factory=list)  # invoice numbers now fully paid
    partial: list[str] = field(default_factory=list)  # "number: paid X of Y"
    unmatched: list[str] = field(default_factory=list)  # entries with no invoice
    already_recorded: int = 0
    recorded: int = 0
    ignored_debits: int = 0

    def summary(self) -> str:
        return (
            f"{self.recorded} payments recorded, {len(self.paid)} invoices paid, {len(self.partial)} partial, "
            f"{len(self.unmatched)} unmatched, {self.already_recorded} already recorded, "
            f"{self.ignored_debits} debits ignored"
        )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(element, *path):
    """The first descendant along ``path`` of local names, whatever the camt namespace version."""
    current = [element]
    for name in path:
        current = [child for parent in current for child in parent if _local(child.tag) == name]
        if not current:
            return None
    return current[0]


def _text(element, *path) -> str:
    found = _find(element, *path)
    return (found.text or "").strip() if found is not None else ""


def _iter(element, name):
    return (child for child in element.iter() if _local(child.tag) == name)


def parse(data: bytes) -> tuple[list[Entry], int]:
    """(booked credit entries, number of debit entries) of every statement in the file."""
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise StatementError(f"Not an XML file: {error}") from error
    except DefusedXmlException as error:  # entity expansion (XML bomb), DTD or external reference
        raise StatementError(f"Refused: the file declares entities or external references ({error}).") from error
    if not any(_local(el.tag) == "BkToCstmrStmt" for el in root.iter()):
        raise StatementError("Not a camt.053 statement (no BkToCstmrStmt element).")
    entries, debits = [], 0
    for statement in _iter(root, "Stmt"):
        account = _text(statement, "Acct", "Id", "IBAN")
        for entry in (child for child in statement if _local(child.tag) == "Ntry"):
            if _text(entry, "CdtDbtInd") != "CRDT":
                debits += 1
                continue
            status = _text(entry, "Sts", "Cd") or _text(entry, "Sts")
            if status and status != "BOOK":
                continue
            amount_el = _find(entry, "Amt")
            booked_on = (
                _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm")[:10]
                or _text(entry, "ValDt", "Dt") or _text(entry, "ValDt", "DtTm")[:10]
            )  # fmt: skip
            if not booked_on:
                raise StatementError("A credit entry has neither a booking date nor a value date.")
            entry_reference = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
            transactions = [tx for tx in _iter(entry, "TxDtls")]
            # A batch entry carries several transfers: each pays its own invoice with its own amount.
            batch = len(transactions) > 1
            for index, scope in enumerate(transactions or [entry]):
                amount_source = amount_el
                if batch:  # an Element without children is falsy: compare with None, never use `or`
                    amount_source = _find(scope, "AmtDtls", "TxAmt", "Amt")
                    amount_source = _find(scope, "Amt") if amount_source is None else amount_source
                try:
                    amount = Decimal((amount_source.text or "").strip())
                except (AttributeError, InvalidOperation) as error:
                    raise StatementError("An entry has no readable amount.") from error
                structured = _text(scope, "RmtInf", "Strd", "CdtrRefInf", "Ref")
                communication = structured or _text(scope, "RmtInf", "Ustrd")
                payer = _text(scope, "RltdPties", "Dbtr", "Nm") or _text(scope, "RltdPties", "Dbtr", "Pty", "Nm")
                reference = _text(scope, "Refs", "AcctSvcrRef") if batch else ""
                reference = reference or (f"{entry_reference}#{index + 1}" if batch and entry_reference else "")
                reference = reference or entry_reference or _text(scope, "Refs", "AcctSvcrRef")
                if not reference:
                    digest = "|".join([account, booked_on, str(amount), communication, payer])
                    reference = "sha256:" + hashlib.sha256(digest.encode()).hexdigest()[:40]
                entries.append(Entry(
                    reference=f"{account}:{reference}"[:140], amount=amount,
                    currency=amount_source.get("Ccy", "EUR"), booked_on=booked_on, communication=communication,
                    payer=payer,
                ))  # fmt: skip
    return entries, debits


def structured_communication(text: str) -> str | None:
    """The twelve digits of a valid Belgian structured communication found in ``text``."""
    # The 3/4/5 layout first, then any run of exactly twelve digits: other numbers in the text
    # ("Invoice 2026-00001 +++090/9337/55493+++") must not swallow the communication.
    patterns = [r"(?<!\d)(\d{3})\s*/\s*(\d{4})\s*/\s*(\d{5})(?!\d)", r"(?<!\d)(\d{12})(?!\d)"]
    for pattern in patterns:
        for groups in re.findall(pattern, text or ""):
            digits = "".join(groups)
            if ogm_vcs.is_valid(digits):
                return digits
    digits = re.sub(r"\D", "", text or "")
    return digits if len(digits) == 12 and ogm_vcs.is_valid(digits) else None


@transaction.atomic
def import_statement(data: bytes, *, by=None, dry_run: bool = False) -> ImportReport:
    entries, debits = parse(data)
    report = ImportReport(ignored_debits=debits)
    for entry in entries:
        communication = structured_communication(entry.communication)
        invoice = Invoice.objects.filter(structured_communication=communication).first() if communication else None
        label = f"{entry.booked_on} {entry.amount} {entry.currency} {entry.payer or '?'} «{entry.communication}»"
        if Payment.objects.filter(bank_reference=entry.reference).exists():
            report.already_recorded += 1
            continue
        if invoice is None or entry.currency != "EUR":
            report.unmatched.append(label)
            continue
        # A dry run records as a real run would (so the report says what would be paid) and rolls back at the end.
        payment = payments.record_payment(
            invoice=invoice, amount=entry.amount, received_on=entry.booked_on, by=by, source=Payment.Source.BANK,
            bank_reference=entry.reference, payer=entry.payer, note=entry.communication,
        )  # fmt: skip
        if payment is None:
            report.already_recorded += 1
            continue
        report.recorded += 1
        invoice.refresh_from_db()
        if invoice.status == Invoice.Status.PAID:
            report.paid.append(invoice.number)
        else:
            report.partial.append(f"{invoice.number}: {payments.paid_amount(invoice)} of {invoice.total}")
    if dry_run:
        transaction.set_rollback(True)
    return report
