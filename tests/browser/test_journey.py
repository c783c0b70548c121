"""A new member's journey in headless Chromium, under the portal's strict Content-Security-Policy.

Verify the e-mail address at the first sign-in, set up an authenticator app (TOTP), sign in
again with it, then switch between the two customers the person belongs to. After every step
the browser must have reported no CSP violation, no JavaScript error and no failed request.
"""

import re
import time
from urllib.parse import urlsplit

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail
from playwright.sync_api import expect

from accounts.roles import Role
from tests.browser.conftest import BrowserWatch, new_page
from tests.factories import PASSWORD, CustomerFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.browser


def move_to_next_totp_period(time_machine) -> None:
    """Move the clock (the live server's too: same process) to the start of the next TOTP period.

    A fresh code, unused and valid for a whole period: no race with the period's end, no waiting,
    and allauth's refusal to accept the same code twice is respected.
    """
    period = mfa_settings.TOTP_PERIOD
    time_machine.move_to((time.time() // period + 1) * period, tick=True)


def current_totp_code(secret: str) -> str:
    """What an authenticator app shows now (RFC 6238 with allauth's own functions and settings)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD))


def assert_static_assets_load(page) -> None:
    """The page's stylesheets and scripts are served, and the scripts ran under the CSP."""
    urls = page.eval_on_selector_all(
        "link[rel=stylesheet], script[src]", "elements => elements.map(e => e.href || e.src)"
    )
    assert any(url.endswith("/static/portal/portal.js") for url in urls), urls
    for url in urls:
        assert page.request.get(url).status == 200, url
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))  # set by portal.js
    assert page.evaluate("typeof window.htmx") == "object"


def fill_sign_in_form(page, email: str):
    response = page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    return response


def open_account_menu_item(page, email: str, item: str) -> None:
    page.locator("summary", has_text=email).click()
    page.get_by_role("link", name=item).click()


def expect_dashboard_of(page, customer_name: str) -> None:
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(customer_name)


def sign_in_verifying_the_email_address(page, watch: BrowserWatch, screenshot, live_server, user) -> None:
    response = fill_sign_in_form(page, user.email)
    # The watch below means something only under the strict policy.
    policy = dict(
        directive.strip().split(" ", 1) for directive in response.headers["content-security-policy"].split(";")
    )
    assert policy["script-src"] == policy["style-src"] == "'self'"
    assert_static_assets_load(page)
    screenshot(page, "login")
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify Your Email Address")
    screenshot(page, "verification-sent")
    watch.assert_clean("the first sign-in")

    # Sent by the Celery task (eager in tests) once the request's transaction committed.
    [verification] = [message for message in mail.outbox if message.to == [user.email]]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", verification.body).group(0)
    assert urlsplit(link).netloc == urlsplit(live_server.url).netloc
    page.goto(urlsplit(link).path)  # the link says https (production); the live server speaks http
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm Email Address")
    page.get_by_role("button", name="Confirm").click()
    expect_dashboard_of(page, "Acme SRL")
    user.emailaddress_set.get(email=user.email, verified=True)
    screenshot(page, "dashboard")
    watch.assert_clean("the e-mail verification")


def activate_totp(page, watch: BrowserWatch, screenshot, time_machine, user) -> str:
    """Set up the authenticator app from the account menu; returns its secret."""
    open_account_menu_item(page, user.email, "Two-factor authentication")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/$"))
    page.get_by_role("link", name="Activate").first.click()
    # Adding a second factor is sensitive: allauth asks for the password again first.
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/\?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F$"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    secret = page.locator("#authenticator_secret").input_value()
    qr_code = page.get_by_role("img", name=secret)  # a data: URI, which img-src allows
    expect(qr_code).to_be_visible()
    assert qr_code.evaluate("img => img.complete && img.naturalWidth > 0")
    screenshot(page, "mfa-activate")
    move_to_next_totp_period(time_machine)
    page.get_by_label("Authenticator code").fill(current_totp_code(secret))
    page.get_by_role("button", name="Activate").click()

    # allauth generates recovery codes with the first authenticator and shows them once.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    recovery_codes = page.locator("#recovery_codes").input_value().split()
    assert len(recovery_codes) == mfa_settings.RECOVERY_CODE_COUNT
    assert {a.type for a in Authenticator.objects.filter(user=user)} == {
        Authenticator.Type.TOTP,
        Authenticator.Type.RECOVERY_CODES,
    }
    open_account_menu_item(page, user.email, "Two-factor authentication")
    expect(page.get_by_text("Authentication using an authenticator app is active.")).to_be_visible()
    screenshot(page, "mfa")
    watch.assert_clean("the TOTP activation")
    return secret


def sign_out(page, user) -> None:
    open_account_menu_item(page, user.email, "Sign out")
    page.get_by_role("button", name="Sign Out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))


def sign_in_with_totp(page, watch: BrowserWatch, screenshot, time_machine, user, secret: str) -> None:
    fill_sign_in_form(page, user.email)
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    screenshot(page, "mfa-authenticate")
    # allauth accepts a code once: the activation's is spent, the app shows the next period's.
    move_to_next_totp_period(time_machine)
    page.get_by_placeholder("Code").fill(current_totp_code(secret))
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect_dashboard_of(page, "Acme SRL")
    watch.assert_clean("the sign-in with TOTP")


def switch_customer(page, watch: BrowserWatch, screenshot, globex) -> None:
    switcher = page.get_by_label("Customer")
    expect(switcher.locator("option:checked")).to_have_text("Acme SRL")
    # portal.js hides the button and submits on change; the button is for browsers without JS.
    expect(page.locator("form.switcher").get_by_role("button", name="Switch")).to_be_hidden()
    screenshot(page, "dashboard-two-customers")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/switch-customer/")) as post:
        switcher.select_option(label="Globex NV")
    assert post.value.status == 302
    expect_dashboard_of(page, "Globex NV")
    expect(page.get_by_label("Customer")).to_have_value(str(globex.pk))
    screenshot(page, "dashboard-switched")
    watch.assert_clean("the customer switch")


def test_a_new_member_verifies_their_email_sets_up_totp_signs_in_with_it_and_switches_customer(
    page, watch, screenshot, live_server, time_machine
):
    user = UserFactory(email="new.member@acme.example", verified=False)
    MembershipFactory(user=user, customer=CustomerFactory(name="Acme SRL"), role=Role.OWNER)

    sign_in_verifying_the_email_address(page, watch, screenshot, live_server, user)
    expect(page.locator(".current-customer")).to_have_text("Acme SRL")  # one customer: no switcher

    secret = activate_totp(page, watch, screenshot, time_machine, user)
    sign_out(page, user)
    sign_in_with_totp(page, watch, screenshot, time_machine, user, secret)

    # Globex adds the person to its team too: the header now offers the switch.
    globex = CustomerFactory(name="Globex NV")
    MembershipFactory(user=user, customer=globex, role=Role.TECHNICAL)
    page.reload()
    switch_customer(page, watch, screenshot, globex)


def test_the_customer_switcher_works_without_javascript(browser, live_server):
    acme, globex = CustomerFactory(name="Acme SRL"), CustomerFactory(name="Globex NV")
    user = MembershipFactory(customer=acme, role=Role.OWNER).user
    MembershipFactory(user=user, customer=globex, role=Role.BILLING)
    page = new_page(browser, live_server, java_script_enabled=False)
    watch = BrowserWatch(page)
    try:
        fill_sign_in_form(page, user.email)
        page.get_by_role("button", name="Sign In", exact=True).click()
        expect_dashboard_of(page, "Acme SRL")

        page.get_by_label("Customer").select_option(label="Globex NV")
        expect_dashboard_of(page, "Acme SRL")  # nothing happens until the form is submitted
        page.locator("form.switcher").get_by_role("button", name="Switch").click()
        expect_dashboard_of(page, "Globex NV")
        watch.assert_clean("the switch without JavaScript")
    finally:
        page.context.close()
