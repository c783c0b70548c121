"""`make screenshots` (issue 9): a PNG of every page, at desktop and at phone width, with the demo data.

Run by `make screenshots` only: the test is marked `screenshots` as well as `browser`, and
`make browser-test` leaves that marker out. It loads the demo (accounts/demo.py) into the test
database, signs in as the demo owner (every customer page), as Globex's owner (its lists that are
empty, as empty-<name>) and as staff (the main admin pages), and saves
var/screenshots/desktop-<name>.png (1280×900, full page) and phone-<name>.png (360×740, full page).
Any page answering an error, or a browser error on the way, fails the run after the pictures are saved.

The list of pages is shared with test_responsive.py: a new customer URL must be a page here (with
a demo object when it takes a parameter), or an action or a file in NOT_PAGES, or the walk fails.
"""

from collections.abc import Iterator

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import demo
from billing.models import Invoice
from services.models import CertificateRequest, DnsRecord, DomainRequest, Kind, Order, Service
from support.models import Ticket
from tests.browser.conftest import SCREENSHOTS, BrowserWatch, new_page
from tests.portal.test_query_budget import NOT_PAGES
from tests.portal.test_scoping import our_url_patterns

pytestmark = [pytest.mark.browser, pytest.mark.screenshots]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
OWNER, STAFF = "owner@acme.example", "staff@portal.example"
# Globex has less: its empty lists are shot too, as empty-<name>.
SMALL_OWNER = "owner@globex.example"
LISTS = ["service_list", "certificate_list", "m365_list", "order_list", "domain_request_list", "ticket_list",
         "staff_access", "billing", "invoice_list"]  # fmt: skip
# Fragments htmx swaps into a page: not pages of their own.
FRAGMENTS = {"ticket_new_reasons", "ticket_new_preview"}
# Actions whose GET asks for confirmation: a page although the URL is an action's.
CONFIRMATION_PAGES = {"dns_record_delete"}
# allauth's pages of the account menu, in the portal's layout.
ACCOUNT_PAGES = ["account_email", "account_change_password", "mfa_index", "usersessions_list"]


def _acme_objects() -> dict[str, dict]:
    """url name -> kwargs naming one of the demo objects of Acme, the richest one where there is a choice,
    and "?" -> the query string a page needs (url name -> query)."""
    acme = Service.objects.get(name="www.acme.example").customer
    hosting = Service.objects.get(customer=acme, name="www.acme.example")
    domain = Service.objects.get(customer=acme, name="acme.be")
    m365_pack = Service.objects.get(customer=acme, plan__kind=Kind.M365_PACK)
    # The longest record: a 400-character DKIM key is what overflows a phone's width.
    record = max(DnsRecord.objects.filter(zone__service=domain), key=lambda r: len(r.value))
    ticket = Ticket.objects.filter(customer=acme, quotes__isnull=False).first()
    order = Order.objects.filter(customer=acme).first()
    domain_request = DomainRequest.objects.filter(customer=acme, status="information_requested").first()
    cert_request = CertificateRequest.objects.filter(customer=acme, status="issued").first()
    invoice = Invoice.objects.filter(customer=acme, status="paid").first()
    backup = hosting.backups.order_by("-taken_at").first()
    return {
        "?": {"hosting_restore": f"?backup={backup.reference}"},
        "service_detail": {"pk": hosting.pk},
        "hosting_restore": {"pk": hosting.pk},
        "m365_end": {"pk": m365_pack.pk},
        "order_detail": {"pk": order.pk},
        "domain_request_detail": {"pk": domain_request.pk},
        "certificate_detail": {"pk": cert_request.pk},
        "ticket_detail": {"number": ticket.number},
        "invoice_detail": {"number": invoice.number},
        "dns_zone": {"pk": domain.pk},
        "dns_zone_history": {"pk": domain.pk},
        "dns_record_edit": {"pk": domain.pk, "record_pk": record.pk},
        "dns_record_delete": {"pk": domain.pk, "record_pk": record.pk},
    }


def customer_pages() -> list[tuple[str, str]]:
    """(name, URL) of every page a customer sees, with the demo objects: the portal's own, then the account's."""
    objects = _acme_objects()
    pages, missing = [], []
    for pattern in our_url_patterns():
        name = pattern.name
        if name in FRAGMENTS or (name in NOT_PAGES and name not in CONFIRMATION_PAGES):
            continue
        if pattern.pattern.converters or "<" in str(pattern.pattern):
            if name not in objects:
                missing.append(name)
                continue
            pages.append((name, reverse(name, kwargs=objects[name]) + objects["?"].get(name, "")))
        else:
            pages.append((name, reverse(name)))
    assert not missing, f"Pages without a demo object: add them to _acme_objects or to NOT_PAGES: {missing}"
    return pages + [(name, reverse(name)) for name in ACCOUNT_PAGES]


def admin_pages() -> list[tuple[str, str]]:
    acme = Service.objects.get(name="www.acme.example").customer
    ticket = Ticket.objects.filter(customer=acme, quotes__isnull=False).first()
    return [
        ("admin-index", reverse("admin:index")),
        ("admin-ticket-list", reverse("admin:support_ticket_changelist")),
        ("admin-ticket", reverse("admin:support_ticket_change", args=[ticket.pk])),
        ("admin-customer", reverse("admin:accounts_customer_change", args=[acme.pk])),
    ]


@pytest.fixture
def demo_data(live_server, _annex_1, settings) -> None:
    """The demo of `make run`, with its passwords, and the admin without a second factor as in demo mode."""
    settings.PORTAL_ADMIN_REQUIRE_MFA = False
    settings.PORTAL_DEMO_BANNER = True
    demo.load(now=timezone.now())


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(demo.DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign In", exact=True).click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.fixture
def shooter(browser, live_server) -> Iterator:
    """Opens pages in one context and saves each at both widths; collects what went wrong on the way."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in [*SCREENSHOTS.glob("desktop-*.png"), *SCREENSHOTS.glob("phone-*.png")]:
        old.unlink()  # a page that is gone leaves no stale picture
    page = new_page(browser, live_server)
    shooter = Shooter(page)
    yield shooter
    page.context.close()


class Shooter:
    def __init__(self, page) -> None:
        self.page, self.watch = page, BrowserWatch(page)
        self.saved: list[str] = []
        self.problems: list[str] = []

    def shoot(self, name: str, url: str | None = None) -> None:
        page = self.page
        page.set_viewport_size(DESKTOP)
        if url is not None:
            response = page.goto(url)
            if response is None or response.status >= 400:
                self.problems.append(f"{name}: {url} answered {response and response.status}")
        for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            page.screenshot(path=SCREENSHOTS / f"{width}-{name}.png", full_page=True)
            self.saved.append(f"{width}-{name}.png")
        try:
            self.watch.assert_clean(name)
        except AssertionError as error:
            self.problems.append(str(error))


def test_make_screenshots_saves_every_page_at_desktop_and_phone_width(demo_data, shooter, capsys):
    page = shooter.page
    page.goto("/accounts/login/")
    shooter.shoot("login")

    sign_in(page, OWNER)
    for name, url in customer_pages():
        shooter.shoot(name, url)

    page.context.clear_cookies()
    sign_in(page, SMALL_OWNER)
    for name in LISTS:
        page.goto(reverse(name))
        if page.locator(".empty-state").count():
            shooter.shoot(f"empty-{name}")

    page.context.clear_cookies()
    sign_in(page, STAFF)
    for name, url in admin_pages():
        shooter.shoot(name, url)

    with capsys.disabled():
        print(f"\n{len(shooter.saved)} screenshots in {SCREENSHOTS}/")
    assert not shooter.problems, "\n".join(shooter.problems)
    assert len(shooter.saved) == len(set(shooter.saved))
