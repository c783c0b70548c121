"""Microsoft 365 licences in headless Chromium: a customer adds and cancels licences in place
with htmx (art. 6.1.5) and sees the pack's total and the grand total follow."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from services.models import Kind, LicenceChange, Service
from tests.browser.test_journey import fill_sign_in_form
from tests.factories import PASSWORD, CustomerFactory, MembershipFactory, PlanFactory, ServiceFactory

pytestmark = pytest.mark.browser


def test_a_customer_adds_and_cancels_licences_with_htmx_and_sees_the_totals_change(page, watch, screenshot):
    acme = CustomerFactory(name="Acme SRL")
    owner = MembershipFactory(customer=acme, role=Role.OWNER, user__email="owner@acme.example").user
    plan = PlanFactory(
        kind=Kind.M365_PACK, name="Business Standard", price=Decimal("12.50"), period_months=0,
        specifications={"max_users": 300},
    )  # fmt: skip
    pack = ServiceFactory(customer=acme, plan=plan, name="Acme Office", quantity=3, current_period_end=None)
    ServiceFactory(customer=acme, plan=plan, name="Acme Interns", quantity=2, current_period_end=None)

    fill_sign_in_form(page, owner.email)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Microsoft 365").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Microsoft 365")
    card = page.locator(f"#pack-{pack.pk}")
    grand_total = page.locator("#grand-total")
    expect(card.locator(".licence-count")).to_have_text("3")
    expect(card.locator(".monthly-total")).to_contain_text("37.50 EUR")
    expect(grand_total).to_contain_text("62.50 EUR")  # (3 + 2) × 12.50
    expect(page.get_by_role("link", name="Open the Microsoft 365 admin centre")).to_have_attribute(
        "href", "https://admin.microsoft.com"
    )
    # Ordering licences is sensitive: the first change asks for the password again, then goes through.
    card.get_by_role("button", name="Add a licence").click()
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(rf"/services/m365/#pack-{pack.pk}$"))
    expect(page.locator("#messages")).to_contain_text("1 licence added to Acme Office.")
    expect(card.locator(".licence-count")).to_have_text("4")
    expect(grand_total).to_contain_text("75.00 EUR")
    watch.assert_clean("the first change, after reauthentication")

    # The next changes swap the pack's card in place: no page load.
    page.evaluate("window.stillTheSamePage = true")
    with page.expect_response(re.compile(rf"/services/m365/{pack.pk}/licences/$")) as added:
        card.get_by_role("button", name="Add a licence").click()
    assert added.value.request.headers.get("hx-request") == "true"
    expect(card.locator(".licence-count")).to_have_text("5")
    expect(card.locator(".monthly-total")).to_contain_text("62.50 EUR")
    expect(grand_total).to_contain_text("87.50 EUR")  # (5 + 2) × 12.50
    expect(card.locator(".pending-at-microsoft")).to_contain_text("Being applied at Microsoft")

    # Cancelling asks first (the person using the licence loses access at once).
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    with page.expect_response(re.compile(rf"/services/m365/{pack.pk}/licences/$")) as cancelled:
        card.get_by_role("button", name="Cancel a licence").click()
    assert questions == [
        "Cancel one licence of Acme Office? The person using it loses access to Microsoft 365 at once."
    ]
    assert cancelled.value.request.headers.get("hx-request") == "true"
    expect(card.locator(".licence-count")).to_have_text("4")
    expect(card.locator(".monthly-total")).to_contain_text("50.00 EUR")
    expect(grand_total).to_contain_text("75.00 EUR")

    # Or type the number of licences wanted.
    card.get_by_label("Number of licences").fill("8")
    with page.expect_response(re.compile(rf"/services/m365/{pack.pk}/licences/$")) as applied:
        card.get_by_role("button", name="Apply").click()
    assert applied.value.request.headers.get("hx-request") == "true"
    expect(card.locator(".licence-count")).to_have_text("8")
    expect(card.locator(".monthly-total")).to_contain_text("100.00 EUR")
    expect(grand_total).to_contain_text("125.00 EUR")  # (8 + 2) × 12.50

    assert page.evaluate("window.stillTheSamePage === true"), "the page reloaded instead of swapping the card"
    assert list(LicenceChange.objects.order_by("pk").values_list("delta", "quantity_after", "by")) == [
        (1, 4, owner.pk), (1, 5, owner.pk), (-1, 4, owner.pk), (4, 8, owner.pk),
    ]  # fmt: skip
    assert Service.objects.get(pk=pack.pk).quantity == 8
    watch.assert_clean("adding and cancelling licences")
    # Last: Playwright's screenshot leaves style="" on inputs, which a later htmx settle copies (CSP).
    screenshot(page, "m365-licences")
