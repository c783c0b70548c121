"""The DNS editor in headless Chromium: a customer adds, edits and deletes records in place with
htmx (no page reload) and the zone export follows each step (art. 4.3.1)."""

import re

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from services import dns
from services.models import Kind
from tests.browser.test_support import sign_in
from tests.factories import CustomerFactory, MembershipFactory, PlanFactory, ServiceFactory

pytestmark = pytest.mark.browser


def htmx_request(page, action, url_part: str):
    """Run ``action`` and return the response of the htmx request it makes to ``url_part``."""
    with page.expect_response(re.compile(url_part)) as response:
        action()
    assert response.value.request.headers.get("hx-request") == "true", "the request did not go through htmx"
    return response.value


def test_a_customer_adds_edits_and_deletes_records_in_place_and_the_export_follows(page, watch, screenshot):
    acme = CustomerFactory(name="Acme SRL")
    owner = MembershipFactory(customer=acme, role=Role.TECHNICAL, user__email="tech@acme.example").user
    domain = ServiceFactory(customer=acme, name="acme.be", plan=PlanFactory(kind=Kind.DOMAIN))
    zone = dns.create_zone(service=domain, name="acme.be")
    dns.add_record(zone=zone, name="www", type="A", ttl=3600, value="192.0.2.10", expected_serial=zone.serial, by=None)

    def export() -> str:
        response = page.request.get(f"/services/{domain.pk}/dns/export/")
        assert response.ok
        return response.text()

    sign_in(page, owner.email)
    page.goto(f"/services/{domain.pk}/dns/")
    expect(page.get_by_role("heading", level=1)).to_have_text("DNS records of acme.be")
    page.evaluate("window.notReloaded = true")  # gone if the page reloads
    rows = page.locator("#records-body")

    # Add: the new row appears in the table, the export has it.
    add_form = page.locator("#record-add")
    add_form.get_by_label("Name").fill("ftp")
    add_form.get_by_label("Type").select_option("A")
    add_form.get_by_label("Value").fill("192.0.2.21")
    htmx_request(page, lambda: add_form.get_by_role("button", name="Add the record").click(), r"/dns/records/add/$")
    expect(rows).to_contain_text("192.0.2.21")
    expect(page.locator("#dns-status")).to_have_text("Record added: ftp 3600 A 192.0.2.21")
    expect(add_form.get_by_label("Value")).to_have_value("")  # the add form is emptied
    assert "ftp\t3600\tIN\tA\t192.0.2.21" in export()
    screenshot(page, "dns-added")
    watch.assert_clean("adding a record")

    # Edit in place: the row turns into a form; an error stays in the row; saving swaps it back.
    htmx_request(page, lambda: page.get_by_role("link", name="Edit ftp A").click(), r"/edit/$")
    row = page.locator("tr.editing")
    expect(row).to_have_count(1)
    row.get_by_label("Value").fill("192.0.2.999")
    htmx_request(page, lambda: row.get_by_role("button", name="Save").click(), r"/edit/$")
    expect(row.locator(".error")).to_contain_text("Enter an IPv4 address")
    screenshot(page, "dns-edit-error")
    row.get_by_label("Value").fill("192.0.2.22")
    row.get_by_label("TTL (seconds)").fill("300")
    htmx_request(page, lambda: row.get_by_role("button", name="Save").click(), r"/edit/$")
    expect(page.locator("tr.editing")).to_have_count(0)
    expect(rows).to_contain_text("192.0.2.22")
    text = export()
    assert "ftp\t300\tIN\tA\t192.0.2.22" in text and "192.0.2.21" not in text
    watch.assert_clean("editing a record")

    # Delete after confirming: the row goes away, and so does the record from the export.
    page.on("dialog", lambda dialog: dialog.accept())
    htmx_request(page, lambda: page.get_by_role("button", name="Delete ftp A").click(), r"/delete/$")
    expect(rows).not_to_contain_text("192.0.2.22")
    assert "ftp\t" not in export()
    # The row of www was rendered with the page's first serial; the changes since brought it up to date.
    htmx_request(page, lambda: page.get_by_role("button", name="Delete www A").click(), r"/delete/$")
    expect(rows.locator("tr")).to_have_count(0)
    expect(page.locator("#dns-status")).to_have_text("Record deleted: www 3600 A 192.0.2.10")
    text = export()
    assert "www\t" not in text
    zone.refresh_from_db()
    assert f" {zone.serial} " in text and str(zone.serial).endswith("06")  # created 01, then five changes
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "dns-deleted")
    watch.assert_clean("deleting records")
