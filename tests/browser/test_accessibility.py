"""Every customer page passes axe-core's WCAG 2.1 A and AA rules (issue 9, item 1).

The walk takes the customer URL names from the project's URL configuration, the way the scoping
test does (tests/portal/test_scoping.py), so a new page is checked without being listed here; the
actions and downloads the query-budget walk skips (NOT_PAGES) are skipped here too. Each page is
checked as a customer with data (the demo's Acme and one object of each kind), as a customer with
nothing, and the main forms with their errors showing. axe-core is vendored (tests/browser/vendor)
and injected by Playwright as an init script: the DevTools protocol is not bound by the portal's
Content-Security-Policy, and the pages are checked under that policy.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import RequestFactory
from django.urls import resolve, reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts import demo, invitations
from accounts.models import Customer, Invitation, User
from accounts.roles import Role
from portal.views import error_500
from tests.browser.conftest import BrowserWatch, new_page
from tests.browser.test_journey import fill_sign_in_form
from tests.factories import PASSWORD, CustomerFactory, MembershipFactory, UserFactory
from tests.portal.test_query_budget import NOT_PAGES
from tests.portal.test_scoping import OBJECT_URLS, acme_objects, our_url_patterns

pytestmark = pytest.mark.browser
__all__ = ["acme_objects"]  # a fixture, used through the customer, owner and staff_user below

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Colours are measured once transitions are over (a button fading back in after an htmx request
# is lighter for a moment); endless animations (a busy indicator) are not waited for.
RUN_AXE = """async (tags) => {
  const finite = document.getAnimations().filter((a) => a.effect.getComputedTiming().iterations !== Infinity);
  await Promise.all(finite.map((a) => a.finished.catch(() => null)));
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(" >> "), summary: n.failureSummary})),
  }));
}"""
# Among the actions, the pages a GET shows: the form behind "Report a problem" with a CMS update.
PAGES_AMONG_ACTIONS = {"cms_update_problem"}
# htmx fragments of a page, checked swapped into their page (the form states below).
FRAGMENTS = {"ticket_new_reasons", "ticket_new_preview"}
SKIPPED = (NOT_PAGES - PAGES_AMONG_ACTIONS) | FRAGMENTS


def customer_pages(objects: dict | None) -> list[str]:
    """The URL of every customer page; with ``objects``, the pages of one object of each kind too."""
    urls = []
    for pattern in our_url_patterns():
        if pattern.name in SKIPPED:
            continue
        if not pattern.pattern.converters and "<" not in str(pattern.pattern):
            urls.append(reverse(pattern.name))
        elif objects is not None:
            urls.append(reverse(pattern.name, kwargs=OBJECT_URLS[pattern.name](objects)))
    return urls


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"  {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:8]:
            summary = " ".join(node["summary"].split())
            lines.append(f"    - {node['target']}: {summary[:300]}")
        if len(violation["nodes"]) > 8:
            lines.append(f"    … and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)


class Checker:
    """Runs axe on the page as it is and collects what it finds, so one run lists every problem."""

    def __init__(self, page) -> None:
        self.page = page
        self.watch = BrowserWatch(page)
        self.problems: list[str] = []
        self.checked: list[str] = []

    def check(self, state: str) -> None:
        violations = self.page.evaluate(RUN_AXE, WCAG_21_AA)
        self.checked.append(state)
        if violations:
            self.problems.append(f"{state} ({self.page.url}):\n{describe(violations)}")

    def visit(self, url: str, *, status: int = 200) -> None:
        response = self.page.goto(url)
        assert response.status == status, f"{url} answered {response.status}"
        if status >= 400:
            self.watch.problems.clear()  # the expected error answer is not a problem
        assert self.page.locator("html").get_attribute("lang"), f"{url} is not a whole document (an htmx fragment?)"
        self.check(url)

    def assert_clean(self) -> None:
        self.watch.assert_clean("the accessibility walk")
        assert not self.problems, "axe-core found WCAG 2.1 A/AA violations:\n" + "\n".join(self.problems)


def axe_page_for(browser, live_server, **context_options):
    page = new_page(browser, live_server, **context_options)
    page.context.add_init_script(path=AXE)
    return page


@pytest.fixture
def axe_page(browser, live_server):
    page = axe_page_for(browser, live_server)
    yield page
    page.context.close()


def sign_in(page, email: str) -> None:
    fill_sign_in_form(page, email)
    page.get_by_role("button", name="Sign In", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


# The demo's Acme, with one more object of each kind (the scoping test's acme_objects) on top.
@pytest.fixture
def demo_data(transactional_db) -> None:
    demo.load(password=PASSWORD, now=timezone.now())


@pytest.fixture
def customer(demo_data):
    return Customer.objects.get(name="Acme SRL")


@pytest.fixture
def owner(demo_data):
    return User.objects.get(email="owner@acme.example")


@pytest.fixture
def staff_user(demo_data):
    return User.objects.get(email="staff@portal.example")


def test_the_checker_does_report_a_violation(axe_page):
    checker = Checker(axe_page)
    checker.visit("/accounts/login/")
    assert not checker.problems
    axe_page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<input id=nameless>')")
    checker.check("a field without a label")
    assert len(checker.problems) == 1 and "label" in checker.problems[0] and "#nameless" in checker.problems[0]


def test_the_walk_covers_every_customer_page_but_actions_downloads_and_fragments():
    names = {p.name for p in our_url_patterns()}
    visited = names - SKIPPED
    assert {"dashboard", "ticket_new", "dns_zone", "certificate_detail", "team", "cms_update_problem"} <= visited
    assert names >= FRAGMENTS, "a fragment listed here is gone: remove it from FRAGMENTS"
    with_params = {p.name for p in our_url_patterns() if p.pattern.converters or "<" in str(p.pattern)}
    assert with_params <= OBJECT_URLS.keys(), "a page with a parameter needs a case in OBJECT_URLS"


def test_every_customer_page_with_data_passes_axe(axe_page, acme_objects, owner):
    checker = Checker(axe_page)
    sign_in(axe_page, owner.email)
    for url in customer_pages(acme_objects):
        checker.visit(url)
    # The demo's objects in their other states: every link of the lists to a detail page.
    for list_name in (
        "service_list",
        "certificate_list",
        "ticket_list",
        "domain_request_list",
        "order_list",
        "invoice_list",
    ):
        axe_page.goto(reverse(list_name))
        hrefs = axe_page.eval_on_selector_all("main a[href]", "links => links.map(a => a.getAttribute('href'))")
        for href in sorted({h for h in hrefs if h.startswith("/") and "?" not in h and "#" not in h}):
            match = resolve(urlsplit(href).path)
            if match.url_name not in SKIPPED and href not in checker.checked and match.url_name.endswith("_detail"):
                checker.visit(href)
    assert len(checker.checked) > 40
    checker.assert_clean()


def test_every_customer_page_of_a_customer_with_nothing_passes_axe(axe_page):
    owner = MembershipFactory(customer=CustomerFactory(name="Empty SRL"), role=Role.OWNER).user
    checker = Checker(axe_page)
    sign_in(axe_page, owner.email)
    for url in customer_pages(None):
        checker.visit(url)
    checker.assert_clean()


def test_the_sign_in_pages_the_account_pages_and_the_error_pages_pass_axe(axe_page, demo_data):
    checker = Checker(axe_page)
    invitation = Invitation.objects.create(
        customer=Customer.objects.get(name="Acme SRL"), email="new@acme.example",
        invited_by=User.objects.get(email="owner@acme.example"),
    )  # fmt: skip
    invitation_url = reverse("invitation_accept", args=[invitations.make_token(invitation)])
    for url in ("/accounts/login/", "/accounts/password/reset/", "/accounts/signup/", invitation_url):
        checker.visit(url)
    checker.visit(reverse("invitation_accept", args=["not-a-token"]), status=410)
    checker.visit("/no-such-page/", status=404)
    # The sign-in form with its error.
    fill_sign_in_form(axe_page, "owner@acme.example")
    axe_page.get_by_label("Password").fill("not the password")
    axe_page.get_by_role("button", name="Sign In", exact=True).click()
    expect(axe_page.locator("main form").first).to_contain_text("not correct")
    checker.check("the sign-in form with an error")
    sign_in(axe_page, "owner@acme.example")
    axe_page.locator("summary", has_text="owner@acme.example").click()
    checker.check("the account menu, open")
    account_pages = ["account_email", "account_change_password", "mfa_index", "mfa_activate_totp", "usersessions_list"]
    for name in [*account_pages, "account_reauthenticate", "account_logout"]:
        checker.visit(reverse(name))
    checker.visit("/services/999999/", status=404)
    # The error page of a server error (rendered without a request context, as the handler does).
    server_error = error_500(RequestFactory().get("/")).content
    axe_page.route("**/server-error/", lambda route: route.fulfill(status=500, body=server_error))
    checker.visit("/server-error/", status=500)
    # A role that may not see a page; a person without a customer.
    axe_page.context.clear_cookies()
    sign_in(axe_page, "tech@acme.example")
    checker.visit(reverse("activity"), status=403)
    axe_page.context.clear_cookies()
    sign_in(axe_page, UserFactory().email)
    checker.visit("/no-customer/", status=403)
    checker.assert_clean()


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_the_main_forms_showing_their_errors_pass_axe(browser, live_server, demo_data, color_scheme):
    """Pico follows the system's dark mode, and error text is where a fixed colour shows first."""
    page = axe_page_for(browser, live_server, color_scheme=color_scheme)
    checker = Checker(page)
    first_invalid = page.locator("main [aria-invalid='true']").first
    try:
        sign_in(page, "owner@acme.example")
        # Buying credits asks for the password again: the prompt, with a wrong password, is the form
        # that can go wrong on the way (a pack is one button).
        page.goto("/billing/buy/")
        checker.check("buying credits")
        page.get_by_role("button", name="Buy Pack 25").click()
        expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Confirm").click()
        expect(page.locator("main")).to_contain_text("Incorrect password")
        checker.check("the password prompt with a wrong password")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
        expect(page).to_have_url(re.compile(r"/billing/invoices/"))
        checker.check("the invoice of the credits just bought")

        # Open a ticket: the reasons and the preview swapped in by htmx, then the form sent empty.
        page.goto("/support/new/")
        page.get_by_label("Service").select_option(label="www.acme.example (Shared web hosting)")
        expect(page.get_by_label("Reason").locator("option", has_text="Update of domain name records")).to_have_count(0)
        page.get_by_label("Reason").select_option(label="Website not reachable — Incident")
        expect(page.locator("#preview")).to_contain_text("Response due")
        checker.check("the ticket form with its reasons and preview")
        page.get_by_role("button", name="Send the ticket").click()
        expect(first_invalid).to_be_focused()
        checker.check("the ticket form sent empty")

        # A DNS record: the add form and the edit row come back with their errors (htmx).
        page.goto("/services/?kind=domain")
        page.get_by_role("link", name="acme.be", exact=True).click()
        page.get_by_role("button", name="Edit the DNS records").click()
        expect(page).to_have_url(re.compile(r"/dns/$"))
        page.wait_for_load_state()  # htmx starts once the page has loaded
        add_form = page.locator("#record-add")
        add_form.get_by_label("Value").fill("not an address")
        add_form.get_by_role("button", name="Add the record").click()
        expect(page.locator("#record-add [aria-invalid='true']").first).to_be_focused()
        page.locator("#records-body a", has_text="Edit").first.click()
        row = page.locator("tr.editing")
        expect(row).not_to_have_class(re.compile(r"\bhtmx-(added|settling)\b"))  # htmx has wired it up
        row.get_by_label("TTL (seconds)").fill("soon")
        row.get_by_role("button", name="Save").click()
        expect(row.locator("[aria-invalid='true']").first).to_be_focused()
        checker.check("the DNS record forms with their errors")

        # Licences: the number the pack already has is refused in the card (htmx).
        page.goto("/services/m365/")
        card = page.locator("article.m365-pack").first
        count = card.locator(".licence-count").inner_text()
        card.get_by_label("Number of licences").fill(count)
        card.get_by_role("button", name="Apply").click()
        expect(card.locator(".error")).to_contain_text("already has this number")
        checker.check("a licence change refused")

        # An invitation without an address (htmx).
        page.goto("/team/")
        page.get_by_role("button", name="Send invitation").click()
        expect(page.locator("#invite-form [aria-invalid='true']")).to_be_focused()
        checker.check("an invitation without an address")

        # A certificate request sent empty, a domain request sent empty, a remark without text.
        page.goto("/services/certificates/new/")
        page.get_by_role("button", name="Send the request").click()
        expect(first_invalid).to_be_focused()
        checker.check("a certificate request sent empty")
        page.goto("/services/domains/requests/new/")
        page.get_by_role("button", name="Send the request").click()
        expect(first_invalid).to_be_focused()
        checker.check("a domain request sent empty")
        page.goto("/support/")
        page.locator("#ticket-table a[href^='/support/T-']").first.click()
        expect(page).to_have_url(re.compile(r"/support/T-"))
        page.wait_for_load_state()
        page.get_by_role("button", name="Add the remark").click()
        expect(first_invalid).to_be_focused()
        checker.check("a remark without text")
        checker.assert_clean()
    finally:
        page.context.close()
