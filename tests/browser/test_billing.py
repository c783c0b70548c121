"""Credits in headless Chromium: a customer buys a pack, staff import the bank statement that
pays it, and the customer's balance shows the credits."""

import re
from decimal import Decimal

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from accounts.roles import Role
from billing.models import CreditPack, Invoice
from tests.browser.conftest import BrowserWatch, new_page
from tests.browser.test_journey import current_totp_code, fill_sign_in_form, move_to_next_totp_period
from tests.factories import PASSWORD, CustomerFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.browser

SECRET = "JBSWY3DPEHPK3PXP"


def statement_paying(invoice: Invoice) -> bytes:
    """What the bank sends: one booked credit transfer with the invoice's structured communication."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>BROWSER-1</MsgId><CreDtTm>2026-11-27T20:00:00</CreDtTm></GrpHdr>
<Stmt><Id>BROWSER-1</Id><CreDtTm>2026-11-27T20:00:00</CreDtTm>
<Acct><Id><IBAN>BE68539007547034</IBAN></Id></Acct>
<Ntry><Amt Ccy="EUR">{invoice.total}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2026-11-27</Dt></BookgDt><AcctSvcrRef>BROWSER-REF-1</AcctSvcrRef>
<NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Acme SRL</Nm></Dbtr></RltdPties>
<RmtInf><Strd><CdtrRefInf><Ref>{invoice.structured_communication}</Ref></CdtrRefInf></Strd></RmtInf>
</TxDtls></NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>""".encode()


def test_a_customer_buys_credits_staff_import_the_payment_and_the_balance_shows_it(
    page, watch, screenshot, browser, live_server, time_machine, tmp_path
):
    acme = CustomerFactory(name="Acme SRL")
    owner = MembershipFactory(customer=acme, role=Role.OWNER, user__email="owner@acme.example").user
    CreditPack.objects.create(name="Pack 25", credits=25, price=Decimal("230.00"))
    staff = UserFactory(email="staff@portal.example", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": SECRET})

    fill_sign_in_form(page, owner.email)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Credits & invoices").click()
    expect(page.locator(".balance")).to_contain_text("0")
    page.get_by_role("link", name="Buy credits").first.click()
    page.get_by_role("button", name="Buy Pack 25").click()
    # Spending money is sensitive: the password is asked again, then the order goes through.
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    invoice = Invoice.objects.get(customer=acme)
    expect(page).to_have_url(re.compile(rf"/billing/invoices/{invoice.number}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice {invoice.number}")
    expect(page.get_by_text(invoice.communication_display).first).to_be_visible()
    qr = page.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    screenshot(page, "billing-invoice")
    watch.assert_clean("buying a credit pack")

    statement = tmp_path / "statement.xml"
    statement.write_bytes(statement_paying(invoice))
    staff_page = new_page(browser, live_server)
    staff_watch = BrowserWatch(staff_page)
    try:
        fill_sign_in_form(staff_page, staff.email)
        staff_page.get_by_role("button", name="Sign In", exact=True).click()
        move_to_next_totp_period(time_machine)
        staff_page.get_by_placeholder("Code").fill(current_totp_code(SECRET))
        staff_page.get_by_role("button", name="Sign In", exact=True).click()
        staff_page.goto("/admin/billing/payment/")
        staff_page.get_by_role("link", name="Import a bank statement").click()
        staff_page.get_by_label("camt.053 statement (XML)").set_input_files(statement)
        staff_page.get_by_role("button", name="Import").click()
        expect(staff_page.locator("#import-summary")).to_contain_text("1 payments recorded, 1 invoices paid")
        screenshot(staff_page, "billing-admin-import")
        staff_watch.assert_clean("the statement import")
    finally:
        staff_page.context.close()

    page.goto("/billing/")
    expect(page.locator(".balance")).to_contain_text("25")
    expect(page.locator("#ledger")).to_contain_text(f"Invoice {invoice.number} paid")
    screenshot(page, "billing-balance")
    watch.assert_clean("reading the balance")
