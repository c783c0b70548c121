"""Look and feel in headless Chromium (issue 9): the spinner of an htmx request, and the question
before cancelling Microsoft 365 licences (art. 6.1.5), asked only when the number goes down."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from services.models import Kind, LicenceChange
from tests.browser.test_support import sign_in
from tests.factories import CustomerFactory, MembershipFactory, PlanFactory, ServiceFactory

pytestmark = pytest.mark.browser


def test_the_licence_number_shows_a_spinner_and_asks_only_before_cancelling_licences(page, watch, reauthenticated):
    acme = CustomerFactory(name="Acme SRL")
    owner = MembershipFactory(customer=acme, role=Role.OWNER, user__email="owner@acme.example").user
    plan = PlanFactory(kind=Kind.M365_PACK, price=Decimal("12.50"), period_months=0, specifications={"max_users": 300})
    pack = ServiceFactory(customer=acme, plan=plan, name="Acme Office", quantity=5, current_period_end=None)
    questions: list[str] = []
    sign_in(page, owner.email)
    page.goto("/services/m365/")
    card = page.locator(f"#pack-{pack.pk}")
    number, apply = card.get_by_label("Number of licences"), card.get_by_role("button", name="Apply")

    # More licences: no question. While the request runs, the spinner shows and the button waits.
    held = []
    page.route(re.compile(r"/licences/$"), lambda route: held.append(route))
    accept = False

    def answer(dialog) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.on("dialog", answer)
    number.fill("7")
    apply.click()
    spinner = card.locator("form:has(input[name=quantity]) .htmx-indicator")
    expect(spinner).to_be_visible()
    expect(spinner).to_have_attribute("aria-busy", "true")
    expect(apply).to_be_disabled()
    held.pop().continue_()
    page.unroute(re.compile(r"/licences/$"))
    expect(card.locator(".licence-count")).to_have_text("7")
    expect(card.locator(".htmx-indicator").first).to_be_hidden()
    assert questions == []

    # Fewer licences: the question comes first; "Cancel" sends nothing.
    number = card.get_by_label("Number of licences")
    number.fill("3")
    card.get_by_role("button", name="Apply").click()
    assert questions == ["Cancel licences of Acme Office? The people using them lose access to Microsoft 365 at once."]
    expect(card.locator(".licence-count")).to_have_text("7")
    assert LicenceChange.objects.filter(service=pack, delta__lt=0).count() == 0

    # "OK" sends it.
    accept = True
    card.get_by_role("button", name="Apply").click()
    expect(card.locator(".licence-count")).to_have_text("3")
    assert list(LicenceChange.objects.filter(service=pack).order_by("pk").values_list("delta", flat=True)) == [2, -4]
    watch.assert_clean("changing the number of licences")
