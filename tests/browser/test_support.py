"""The support desk in headless Chromium: a customer opens an Express incident and sees its
deadline (art. 7.6); staff answer it in the admin; the customer sees the answer in time."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from accounts.roles import Role
from services.models import Kind
from support.models import Ticket
from tests.browser.conftest import BrowserWatch, new_page
from tests.browser.test_journey import current_totp_code, fill_sign_in_form, move_to_next_totp_period
from tests.factories import CustomerFactory, MembershipFactory, PlanFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.browser

BRUSSELS = ZoneInfo("Europe/Brussels")
SECRET = "JBSWY3DPEHPK3PXP"


def sign_in(page, email: str) -> None:
    fill_sign_in_form(page, email)
    page.get_by_role("button", name="Sign In", exact=True).click()


def test_a_customer_opens_an_express_incident_sees_the_deadline_and_staff_answer_in_the_admin(
    page, watch, screenshot, browser, live_server, time_machine
):
    # Wednesday 25 November 2026, 10:00 in Brussels: an Express incident is due 4 working hours later.
    time_machine.move_to(datetime.datetime(2026, 11, 25, 10, 0, tzinfo=BRUSSELS), tick=True)
    acme = CustomerFactory(name="Acme SRL")
    owner = MembershipFactory(customer=acme, role=Role.OWNER, user__email="owner@acme.example").user
    ServiceFactory(customer=acme, name="www.acme.example", plan=PlanFactory(kind=Kind.SHARED_HOSTING))
    ServiceFactory(customer=acme, name="acme.be", plan=PlanFactory(kind=Kind.DOMAIN))
    staff = UserFactory(email="staff@portal.example", is_staff=True, is_superuser=True)
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": SECRET})

    sign_in(page, owner.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Support").click()
    page.get_by_role("link", name="Open a ticket").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Open a ticket")
    page.wait_for_load_state()  # htmx starts once the page has loaded: a change before that is not sent

    # Choosing the hosting narrows the reasons to the hosting's (htmx swaps the list).
    with page.expect_response(re.compile(r"/support/new/reasons/")):
        page.get_by_label("Service").select_option(label="www.acme.example (Shared web hosting)")
    reasons = page.get_by_label("Reason")
    expect(reasons.locator("option", has_text="Update of domain name records")).to_have_count(0)
    with page.expect_response(re.compile(r"/support/new/preview/")):
        reasons.select_option(label="Website not reachable — Incident")
    with page.expect_response(re.compile(r"/support/new/preview/")):
        page.get_by_label("Express").check()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("free")
    expect(preview).to_contain_text("Nov. 25, 2026, 2 p.m.")  # 10:00 + 4 working hours
    page.get_by_label("Subject").fill("www.acme.example answers 503")
    page.get_by_label("Description").fill("Since 9:50 every page answers 503.")
    screenshot(page, "support-new-ticket")
    page.get_by_role("button", name="Send the ticket").click()

    ticket = Ticket.objects.get()
    expect(page).to_have_url(re.compile(rf"/support/{ticket.number}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("www.acme.example answers 503")
    expect(page.locator(".sla-due")).to_contain_text("Due by")
    screenshot(page, "support-ticket-opened")
    watch.assert_clean("opening the ticket")

    # Staff answer in the admin, signed in with their second factor.
    staff_page = new_page(browser, live_server)
    staff_watch = BrowserWatch(staff_page)
    try:
        sign_in(staff_page, staff.email)
        move_to_next_totp_period(time_machine)
        staff_page.get_by_placeholder("Code").fill(current_totp_code(SECRET))
        staff_page.get_by_role("button", name="Sign In", exact=True).click()
        staff_page.goto("/admin/support/ticket/")
        row = staff_page.locator("#result_list tr", has_text=ticket.number)
        expect(row).to_contain_text("Acme SRL")
        expect(row.locator(".sla-ok, .sla-at-risk")).to_contain_text("h left")
        screenshot(staff_page, "support-admin-list")
        row.get_by_role("link", name=ticket.number).click()
        staff_page.locator("textarea[name='remarks-0-body']").fill("We restarted the web server; please check.")
        staff_page.get_by_role("button", name="Save", exact=True).click()
        expect(staff_page.locator(".messagelist")).to_contain_text("was changed successfully")
        staff_watch.assert_clean("the staff reply in the admin")
    finally:
        staff_page.context.close()

    ticket.refresh_from_db()
    assert ticket.first_response_at is not None and ticket.responded_in_time is True
    page.reload()
    expect(page.locator("#thread")).to_contain_text("We restarted the web server; please check.")
    expect(page.locator(".sla-met")).to_have_text("Answered in time")
    screenshot(page, "support-ticket-answered")
    watch.assert_clean("reading the answer")


def test_a_remark_is_added_in_place_with_htmx(page, watch, live_server):
    from support import tickets
    from support.models import InterventionType

    acme = CustomerFactory(name="Acme SRL")
    owner = MembershipFactory(customer=acme, role=Role.OWNER).user
    ticket = tickets.open_ticket(
        customer=acme, opened_by=owner, reason=InterventionType.objects.get(code="hosting-information"),
        priority="standard", subject="PHP versions", description="Which ones?",
    )  # fmt: skip
    sign_in(page, owner.email)
    page.goto(ticket.get_absolute_url())
    page.get_by_label("Your remark").fill("And is PHP 8.4 offered?")
    with page.expect_response(re.compile(rf"/support/{ticket.number}/remarks/")) as response:
        page.get_by_role("button", name="Add the remark").click()
    assert response.value.request.headers.get("hx-request") == "true"
    expect(page.locator("#thread .remark")).to_have_count(2)
    expect(page.locator("#thread")).to_contain_text("And is PHP 8.4 offered?")
    expect(page.get_by_label("Your remark")).to_have_value("")  # the form is emptied for the next one
    watch.assert_clean("adding a remark")
