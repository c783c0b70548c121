"""The main journeys with the keyboard alone, and what htmx swaps do to the focus (issue 9, item 1).

No mouse: Tab to move, Enter and Space to act, arrows in a list or a group of radios, typing in
fields.
Every control reached shows a focus indicator. After an htmx swap the focus goes somewhere that
makes sense (the first error, the same control, the new content) and the change is announced by
the page's live region (#announcer, role=status).
"""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from billing.models import CreditPack, Invoice
from services import dns
from services.models import Kind
from support.models import Ticket
from tests.factories import PASSWORD, CustomerFactory, MembershipFactory, PlanFactory, ServiceFactory

pytestmark = pytest.mark.browser

# Pico's own indicator is a faint halo (a half-transparent box-shadow); portal.css adds a solid outline.
FOCUS_INDICATOR = """() => {
  const style = getComputedStyle(document.activeElement);
  return {
    visible: document.activeElement.matches(":focus-visible"),
    outline: style.outlineStyle === "solid" && parseFloat(style.outlineWidth) >= 2,
  };
}"""


def tab_to(page, locator, *, limit: int = 60) -> None:
    """Press Tab until ``locator`` has the focus, and check that the focus is seen there."""
    target = locator.element_handle()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            assert_focus_visible(page)
            return
    raise AssertionError(f"{limit} presses of Tab never reached {locator}")


def assert_focus_visible(page) -> None:
    indicator = page.evaluate(FOCUS_INDICATOR)
    focused = page.evaluate("document.activeElement.outerHTML.slice(0, 120)")
    assert indicator["visible"] and indicator["outline"], f"no visible focus indicator on {focused}"


def settled(locator) -> None:
    """htmx wires up new content a moment after it appears (its settle delay): a key pressed in
    between would reach a plain form, so wait for that moment as a person could not help doing."""
    expect(locator).not_to_have_class(re.compile(r"\bhtmx-(added|settling)\b"))


def sign_in_with_the_keyboard(page, email: str) -> None:
    page.goto("/accounts/login/")
    tab_to(page, page.get_by_label("Email"))
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def confirm_the_password(page) -> None:
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).not_to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.wait_for_load_state()


@pytest.fixture
def acme_owner(transactional_db):
    acme = CustomerFactory(name="Acme SRL")
    return MembershipFactory(customer=acme, role=Role.OWNER, user__email="owner@acme.example").user


def test_a_customer_opens_a_ticket_with_the_keyboard_alone(page, watch, acme_owner):
    ServiceFactory(customer=acme_owner.memberships.get().customer, name="www.acme.example", plan=PlanFactory())
    sign_in_with_the_keyboard(page, acme_owner.email)
    tab_to(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Support"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/support/$"))
    tab_to(page, page.get_by_role("link", name="Open a ticket").first)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Open a ticket")
    page.wait_for_load_state()  # htmx starts once the page has loaded

    # The service narrows the reasons (htmx); the focus stays on the service list meanwhile.
    service = page.get_by_label("Service")
    tab_to(page, service)
    with page.expect_response(re.compile(r"/support/new/reasons/")):
        page.keyboard.press("ArrowDown")
    expect(service.locator("option:checked")).to_have_text("www.acme.example (Shared web hosting)")
    reasons = page.get_by_label("Reason")
    expect(reasons.locator("option", has_text="Update of domain name records")).to_have_count(0)
    expect(service).to_be_focused()
    page.keyboard.press("Tab")
    expect(reasons).to_be_focused()
    with page.expect_response(re.compile(r"/support/new/preview/")):
        page.keyboard.press("ArrowDown")
    # The preview is read out once it changes.
    expect(page.locator("#announcer")).to_contain_text("Response due")
    expect(reasons).to_be_focused()
    page.keyboard.press("Tab")  # the priority: arrows move between Standard and Express
    expect(page.get_by_label("Standard")).to_be_focused()
    with page.expect_response(re.compile(r"/support/new/preview/")):
        page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Express")).to_be_checked()

    tab_to(page, page.get_by_label("Subject"))
    page.keyboard.type("www.acme.example answers 503")
    page.keyboard.press("Tab")
    page.keyboard.type("Every page answers 503 since this morning.")
    tab_to(page, page.get_by_role("button", name="Send the ticket"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/support/T-[\d-]+/$"))
    ticket = Ticket.objects.get()
    expect(page).to_have_url(re.compile(rf"/support/{ticket.number}/$"))
    assert (ticket.subject, ticket.priority) == ("www.acme.example answers 503", "express")
    # The confirmation shown after the page load is read out too.
    expect(page.locator("#announcer")).to_contain_text(ticket.number)
    watch.assert_clean("opening a ticket with the keyboard")


def test_a_customer_edits_a_dns_record_with_the_keyboard_alone(page, watch, acme_owner):
    domain = ServiceFactory(
        customer=acme_owner.memberships.get().customer, name="acme.be", plan=PlanFactory(kind=Kind.DOMAIN)
    )
    zone = dns.create_zone(service=domain, name="acme.be")
    dns.add_record(zone=zone, name="www", type="A", ttl=3600, value="192.0.2.10", expected_serial=zone.serial, by=None)
    sign_in_with_the_keyboard(page, acme_owner.email)
    page.goto(f"/services/{domain.pk}/dns/")
    page.evaluate("window.notReloaded = true")

    # Edit: the row turns into a form and the focus goes to its first field.
    tab_to(page, page.get_by_role("link", name="Edit www A"))
    page.keyboard.press("Enter")
    row = page.locator("tr.editing")
    expect(row.get_by_label("Name")).to_be_focused()
    tab_to(page, row.get_by_label("Value"))
    page.keyboard.press("Control+A")
    page.keyboard.type("192.0.2.999")
    page.keyboard.press("Enter")
    # The error: the field has the focus and names its error, which is announced (role=alert).
    value = row.get_by_label("Value")
    expect(value).to_be_focused()
    expect(value).to_have_attribute("aria-invalid", "true")
    error_id = value.get_attribute("aria-describedby").split()[-1]
    expect(page.locator(f"#{error_id}")).to_have_attribute("role", "alert")
    expect(page.locator(f"#{error_id}")).to_contain_text("Enter an IPv4 address")
    settled(row)
    page.keyboard.press("Control+A")
    page.keyboard.type("192.0.2.22")
    page.keyboard.press("Enter")

    # Saved: the row is back, its Edit link has the focus, and the change is announced.
    expect(page.locator("tr.editing")).to_have_count(0)
    expect(page.locator("#records-body")).to_contain_text("192.0.2.22")
    expect(page.get_by_role("link", name="Edit www A")).to_be_focused()
    assert_focus_visible(page)
    expect(page.locator("#announcer")).to_have_text("Record saved: www 3600 A 192.0.2.22")
    assert zone.records.get().value == "192.0.2.22"

    # Delete (Tab to the button, Space, accept the question): the focus goes to the records' heading.
    page.on("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Delete www A")).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator("#records-body")).not_to_contain_text("192.0.2.22")
    expect(page.get_by_role("heading", name="Records", exact=True)).to_be_focused()
    expect(page.locator("#announcer")).to_have_text("Record deleted: www 3600 A 192.0.2.22")
    assert page.evaluate("window.notReloaded === true"), "the page reloaded"
    watch.assert_clean("editing a DNS record with the keyboard")


def test_a_customer_adds_a_licence_with_the_keyboard_alone(page, watch, acme_owner):
    plan = PlanFactory(
        kind=Kind.M365_PACK, name="Business Standard", price=Decimal("12.50"), period_months=0,
        specifications={"max_users": 300},
    )  # fmt: skip
    pack = ServiceFactory(
        customer=acme_owner.memberships.get().customer, plan=plan, name="Acme Office", quantity=3,
        current_period_end=None,
    )  # fmt: skip
    sign_in_with_the_keyboard(page, acme_owner.email)
    tab_to(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Microsoft 365"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/services/m365/$"))
    page.wait_for_load_state()
    card = page.locator(f"#pack-{pack.pk}")
    add = card.get_by_role("button", name="Add a licence")
    tab_to(page, add)
    page.keyboard.press("Enter")
    confirm_the_password(page)  # the first change of a session asks for the password again
    expect(card.locator(".licence-count")).to_have_text("4")

    # The next one swaps the card in place: the focus stays on the same button, the new count is read.
    page.evaluate("window.notReloaded = true")
    tab_to(page, add)
    page.keyboard.press("Enter")
    expect(card.locator(".licence-count")).to_have_text("5")
    expect(add).to_be_focused()
    assert_focus_visible(page)
    expect(page.locator("#announcer")).to_have_text("Acme Office: 5 licences, 62.50 EUR per month.")
    assert page.evaluate("window.notReloaded === true"), "the page reloaded"
    pack.refresh_from_db()
    assert pack.quantity == 5
    watch.assert_clean("adding licences with the keyboard")


def test_a_customer_buys_credits_with_the_keyboard_alone(page, watch, acme_owner):
    CreditPack.objects.create(name="Pack 25", credits=25, price=Decimal("230.00"))
    sign_in_with_the_keyboard(page, acme_owner.email)
    tab_to(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Credits & invoices"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("button", name="Buy credits"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Buy credits")
    tab_to(page, page.get_by_role("button", name="Buy Pack 25"))
    page.keyboard.press("Enter")
    confirm_the_password(page)
    expect(page).to_have_url(re.compile(r"/billing/invoices/[\d-]+/$"))
    invoice = Invoice.objects.get()
    expect(page).to_have_url(re.compile(rf"/billing/invoices/{invoice.number}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice {invoice.number}")
    expect(page.locator("#announcer")).to_contain_text(f"Invoice {invoice.number} is issued")
    watch.assert_clean("buying credits with the keyboard")


def test_the_skip_link_is_the_first_stop_and_leads_to_the_content(page, acme_owner):
    sign_in_with_the_keyboard(page, acme_owner.email)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["x"] >= 0, "the skip link stays off screen when focused"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")


def test_a_filtered_list_announces_what_it_shows_and_keeps_the_focus(page, acme_owner):
    customer = acme_owner.memberships.get().customer
    ServiceFactory(customer=customer, name="www.acme.example", plan=PlanFactory())
    ServiceFactory(customer=customer, name="acme.be", plan=PlanFactory(kind=Kind.DOMAIN))
    ServiceFactory(customer=customer, name="acme.eu", plan=PlanFactory(kind=Kind.DOMAIN))
    sign_in_with_the_keyboard(page, acme_owner.email)
    page.goto("/services/")
    kind = page.get_by_label("Kind")
    tab_to(page, kind)
    page.keyboard.press("ArrowDown")  # the first kind: shared web hosting
    expect(page.locator("#announcer")).to_have_text("1 service")
    expect(page.locator("#service-table")).not_to_contain_text("acme.be")
    expect(kind).to_be_focused()
