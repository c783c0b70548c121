"""Importing camt.053 bank statements: match by structured communication, record nothing twice."""

import datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from billing import ledger
from billing.bank_statements import StatementError, import_statement, parse, structured_communication
from billing.models import Invoice, Payment
from tests.factories import CreditPackFactory, issue_invoice

DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLE = DATA / "camt053-sample.xml"
OVERLAP = DATA / "camt053-sample-overlap.xml"
# The communications written in the sample files (see the comment at their top).
COMMUNICATION_A = "090933755493"  # +++090/9337/55493+++, 121.00 EUR, paid in full by the sample
COMMUNICATION_B = "202600001004"  # +++202/6000/01004+++, 278.30 EUR, 100.00 paid by the sample, the rest by the overlap


@pytest.fixture
def invoice_a(customer):
    pack = CreditPackFactory(name="Pack 10", credits=10, price=Decimal("100.00"))
    return issue_invoice(customer, pack=pack, today=datetime.date(2026, 11, 20), communication=COMMUNICATION_A)


@pytest.fixture
def invoice_b(other_customer, invoice_a):
    pack = CreditPackFactory(name="Pack 25", credits=25, price=Decimal("230.00"))
    return issue_invoice(other_customer, pack=pack, today=datetime.date(2026, 11, 21), communication=COMMUNICATION_B)


def status(invoice) -> str:
    invoice.refresh_from_db()
    return invoice.status


def test_the_sample_files_carry_valid_structured_communications():
    from stdnum.be import ogm_vcs

    assert ogm_vcs.is_valid(COMMUNICATION_A) and ogm_vcs.is_valid(COMMUNICATION_B)
    assert "+++090/9337/55493+++" in SAMPLE.read_text() and "+++202/6000/01004+++" in SAMPLE.read_text()


def test_the_sample_parses_into_its_three_credits_and_one_debit():
    entries, debits = parse(SAMPLE.read_bytes())
    assert debits == 1
    assert [(e.amount, e.booked_on, e.payer) for e in entries] == [
        (Decimal("121.00"), "2026-11-26", "Acme SRL"),
        (Decimal("100.00"), "2026-11-26", "Globex NV"),
        (Decimal("45.00"), "2026-11-26", "Initech SPRL"),
    ]
    assert entries[0].reference == "BE68539007547034:2026112605431190"
    assert [e.communication for e in entries[:2]] == [COMMUNICATION_A, "+++202/6000/01004+++"]


@pytest.mark.django_db
def test_importing_the_sample_reports_paid_partial_unmatched_and_ignored_debits(
    invoice_a, invoice_b, customer, other_customer
):
    report = import_statement(SAMPLE.read_bytes())
    assert report.paid == [invoice_a.number]
    assert report.partial == [f"{invoice_b.number}: 100.00 of 278.30"]
    assert len(report.unmatched) == 1 and "45.00 EUR Initech SPRL" in report.unmatched[0]
    assert (report.recorded, report.already_recorded, report.ignored_debits) == (2, 0, 1)
    assert (status(invoice_a), status(invoice_b)) == ("paid", "issued")
    assert (ledger.balance(customer), ledger.balance(other_customer)) == (10, 0)
    payment = Payment.objects.get(invoice=invoice_a)
    assert (payment.source, payment.amount, payment.received_on, payment.payer) == (
        "bank", Decimal("121.00"), datetime.date(2026, 11, 26), "Acme SRL",
    )  # fmt: skip
    assert payment.bank_reference == "BE68539007547034:2026112605431190"


@pytest.mark.django_db
def test_importing_the_same_statement_twice_records_nothing_twice_and_gives_the_same_balance(
    invoice_a, invoice_b, customer, other_customer
):
    import_statement(SAMPLE.read_bytes())
    balances = (ledger.balance(customer), ledger.balance(other_customer))
    again = import_statement(SAMPLE.read_bytes())
    assert (again.recorded, again.already_recorded, again.paid, again.partial) == (0, 2, [], [])
    assert len(again.unmatched) == 1  # still reported, so that staff can deal with it
    assert Payment.objects.count() == 2
    assert (ledger.balance(customer), ledger.balance(other_customer)) == balances == (10, 0)


@pytest.mark.django_db
def test_an_overlapping_statement_records_only_its_new_entries(invoice_a, invoice_b, other_customer):
    import_statement(SAMPLE.read_bytes())
    report = import_statement(OVERLAP.read_bytes())
    assert (report.recorded, report.already_recorded) == (1, 1)
    assert report.paid == [invoice_b.number]  # found after the invoice number in the free text
    assert status(invoice_b) == "paid"
    assert sorted(Payment.objects.filter(invoice=invoice_b).values_list("amount", flat=True)) == [
        Decimal("100.00"), Decimal("178.30"),
    ]  # fmt: skip
    assert ledger.balance(other_customer) == 25


@pytest.mark.django_db
def test_the_order_of_overlapping_imports_does_not_matter(invoice_a, invoice_b, customer, other_customer):
    import_statement(OVERLAP.read_bytes())
    report = import_statement(SAMPLE.read_bytes())
    assert (report.recorded, report.already_recorded, report.paid) == (1, 1, [invoice_a.number])
    assert Payment.objects.count() == 3
    assert (ledger.balance(customer), ledger.balance(other_customer)) == (10, 25)


@pytest.mark.django_db
def test_the_command_prints_what_it_did_and_a_summary(invoice_a, invoice_b):
    out = StringIO()
    call_command("import_bank_statement", str(SAMPLE), stdout=out)
    lines = out.getvalue().splitlines()
    assert f"paid: {invoice_a.number}" in lines
    assert f"partial: {invoice_b.number}: 100.00 of 278.30" in lines
    assert any(line.startswith("unmatched: 2026-11-26 45.00 EUR Initech SPRL") for line in lines)
    assert lines[-1] == (
        "2 payments recorded, 1 invoices paid, 1 partial, 1 unmatched, 0 already recorded, 1 debits ignored."
    )


@pytest.mark.django_db
def test_the_command_is_safe_to_run_twice(invoice_a, invoice_b, customer):
    call_command("import_bank_statement", str(SAMPLE), stdout=StringIO())
    out = StringIO()
    call_command("import_bank_statement", str(SAMPLE), stdout=out)
    assert "0 payments recorded" in out.getvalue() and "2 already recorded" in out.getvalue()
    assert Payment.objects.count() == 2 and ledger.balance(customer) == 10


@pytest.mark.django_db
def test_a_dry_run_reports_what_would_be_paid_and_records_nothing(invoice_a, invoice_b, customer):
    out = StringIO()
    call_command("import_bank_statement", str(SAMPLE), "--dry-run", stdout=out)
    lines = out.getvalue().splitlines()
    assert f"paid: {invoice_a.number}" in lines
    assert lines[-1].startswith("Dry run: 2 payments recorded, 1 invoices paid, 1 partial, 1 unmatched")
    assert not Payment.objects.exists()
    assert (status(invoice_a), status(invoice_b)) == ("issued", "issued")
    assert ledger.balance(customer) == 0
    call_command("import_bank_statement", str(SAMPLE), stdout=StringIO())  # the real run still records
    assert Payment.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.4 not a statement", "Not an XML file"),
        (b"", "Not an XML file"),
        (
            b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">'
            b"<CstmrCdtTrfInitn/></Document>",
            "Not a camt.053 statement",
        ),
    ],
)
def test_a_file_that_is_not_a_camt053_statement_is_refused_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "statement.xml"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        call_command("import_bank_statement", str(path), stdout=StringIO())
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_bank_statement", str(tmp_path / "missing.xml"))


XML_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>&lol3;</BkToCstmrStmt></Document>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>&secret;</BkToCstmrStmt></Document>
"""


@pytest.mark.django_db
@pytest.mark.parametrize("content", [XML_BOMB, EXTERNAL_ENTITY], ids=["xml-bomb", "external-entity"])
def test_entities_are_refused_not_expanded(tmp_path, content):
    with pytest.raises(StatementError, match="Refused"):
        parse(content)
    path = tmp_path / "evil.xml"
    path.write_bytes(content)
    with pytest.raises(CommandError, match="Refused"):
        call_command("import_bank_statement", str(path), stdout=StringIO())


def statement(entries: str, *, version: str = "02") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>T</MsgId><CreDtTm>2026-11-27T20:00:00</CreDtTm></GrpHdr><Stmt><Id>T</Id>"
        f"<CreDtTm>2026-11-27T20:00:00</CreDtTm><Acct><Id><IBAN>BE68539007547034</IBAN></Id></Acct>{entries}</Stmt>"
        f"</BkToCstmrStmt></Document>"
    ).encode()


def credit(amount: str, communication: str, *, status: str = "<Sts>BOOK</Sts>", ccy: str = "EUR", ref: str = "") -> str:
    reference = f"<AcctSvcrRef>{ref}</AcctSvcrRef>" if ref else ""
    return (
        f'<Ntry><Amt Ccy="{ccy}">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>{status}'
        f"<BookgDt><Dt>2026-11-27</Dt></BookgDt>{reference}<NtryDtls><TxDtls>"
        f"<RltdPties><Dbtr><Nm>Acme SRL</Nm></Dbtr></RltdPties><RmtInf><Ustrd>{communication}</Ustrd></RmtInf>"
        f"</TxDtls></NtryDtls></Ntry>"
    )


@pytest.mark.django_db
def test_a_newer_camt053_version_reads_the_same(invoice_a, customer):
    entry = (
        '<Ntry><Amt Ccy="EUR">121.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        "<BookgDt><DtTm>2026-11-27T10:12:00+01:00</DtTm></BookgDt><AcctSvcrRef>V8-1</AcctSvcrRef><NtryDtls><TxDtls>"
        "<RltdPties><Dbtr><Pty><Nm>Acme SRL</Nm></Pty></Dbtr></RltdPties>"
        "<RmtInf><Strd><CdtrRefInf><Ref>090933755493</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )
    report = import_statement(statement(entry, version="08"))
    assert report.paid == [invoice_a.number]
    assert Payment.objects.get().payer == "Acme SRL"
    assert ledger.balance(customer) == 10


@pytest.mark.django_db
def test_pending_entries_are_not_recorded_and_foreign_currencies_are_unmatched(invoice_a):
    entries = credit("121.00", "+++090/9337/55493+++", status="<Sts>PDNG</Sts>", ref="P-1") + credit(
        "121.00", "+++090/9337/55493+++", ccy="USD", ref="U-1"
    )
    report = import_statement(statement(entries))
    assert (report.recorded, len(report.unmatched)) == (0, 1)
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_an_entry_without_a_bank_reference_is_still_recorded_once(invoice_a):
    data = statement(credit("50.00", "+++090/9337/55493+++"))
    assert import_statement(data).recorded == 1
    assert import_statement(data).already_recorded == 1
    assert Payment.objects.get().bank_reference.startswith("BE68539007547034:sha256:")


@pytest.mark.django_db
def test_an_entry_without_a_booking_date_takes_its_value_date(invoice_a):
    entry = credit("121.00", "+++090/9337/55493+++", ref="V-1").replace(
        "<BookgDt><Dt>2026-11-27</Dt></BookgDt>", "<ValDt><Dt>2026-11-28</Dt></ValDt>"
    )
    assert import_statement(statement(entry)).paid == [invoice_a.number]
    assert Payment.objects.get().received_on == datetime.date(2026, 11, 28)
    undated = entry.replace("<ValDt><Dt>2026-11-28</Dt></ValDt>", "")
    with pytest.raises(StatementError, match="neither a booking date nor a value date"):
        import_statement(statement(undated.replace("V-1", "V-2")))


@pytest.mark.django_db
def test_a_communication_of_no_invoice_is_unmatched(invoice_a):
    report = import_statement(statement(credit("10.00", "+++424/2424/24238+++", ref="X-1")))
    assert report.recorded == 0 and len(report.unmatched) == 1
    assert status(invoice_a) == Invoice.Status.ISSUED


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+++090/9337/55493+++", "090933755493"),
        ("***090/9337/55493***", "090933755493"),
        ("090933755493", "090933755493"),
        ("090 9337 55493", "090933755493"),
        ("+++ 090 / 9337 / 55493 +++", "090933755493"),
        ("Invoice 2026-00001 +++090/9337/55493+++", "090933755493"),
        ("Factuur 2026-00002 202/6000/01004 dank u", "202600001004"),
        ("+++090/9337/55494+++", None),  # wrong check digits
        ("Facture novembre", None),
        ("", None),
    ],
)
def test_the_structured_communication_is_found_in_what_the_payer_wrote(text, expected):
    assert structured_communication(text) == expected


@pytest.mark.django_db
def test_a_batch_entry_pays_each_invoice_with_its_own_transfer_once(invoice_a, invoice_b, customer, other_customer):
    def transfer(amount: str, communication: str, ref: str) -> str:
        return (
            f'<TxDtls><Refs><AcctSvcrRef>{ref}</AcctSvcrRef></Refs><AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt>'
            f"</TxAmt></AmtDtls><RmtInf><Ustrd>{communication}</Ustrd></RmtInf></TxDtls>"
        )

    entry = (
        '<Ntry><Amt Ccy="EUR">399.30</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
        "<BookgDt><Dt>2026-11-27</Dt></BookgDt><AcctSvcrRef>BATCH-1</AcctSvcrRef><NtryDtls>"
        + transfer("121.00", "+++090/9337/55493+++", "BATCH-1-A")
        + transfer("278.30", "+++202/6000/01004+++", "BATCH-1-B")
        + "</NtryDtls></Ntry>"
    )
    report = import_statement(statement(entry))
    assert sorted(report.paid) == sorted([invoice_a.number, invoice_b.number])
    assert (ledger.balance(customer), ledger.balance(other_customer)) == (10, 25)
    assert import_statement(statement(entry)).already_recorded == 2


@pytest.mark.django_db
def test_staff_upload_a_statement_in_the_admin_and_see_the_report(invoice_a, invoice_b, customer, staff_user):
    from allauth.mfa.models import Authenticator
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from tests.conftest import client_for

    Authenticator.objects.create(user=staff_user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    client = client_for(staff_user)
    url = reverse("admin:billing_payment_import")
    assert url in client.get(reverse("admin:billing_payment_changelist")).content.decode()
    upload = SimpleUploadedFile("statement.xml", SAMPLE.read_bytes(), content_type="text/xml")
    body = client.post(url, {"statement": upload}).content.decode()
    assert "1 invoices paid, 1 partial, 1 unmatched" in body
    assert ledger.balance(customer) == 10
    bad = client.post(url, {"statement": SimpleUploadedFile("x.xml", b"not xml", content_type="text/xml")})
    assert "Not an XML file" in bad.content.decode()
