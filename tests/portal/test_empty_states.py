"""Empty states (issue 9): a list with no rows says what it lists and links to the next step.

A new customer sees every list page empty; each shows one `.empty-state` block with a link to
the page where the list starts to fill (order, request, open, buy).
"""

import pytest
from django.test.html import Element, parse_html
from django.urls import reverse

from accounts.roles import Role
from services import dns
from services.models import Kind
from tests.factories import MembershipFactory, PlanFactory, ServiceFactory

# (list page, its query string) -> the page of the next step.
NEXT_STEPS = {
    ("dashboard", ""): "catalogue",
    ("service_list", ""): "catalogue",
    ("service_list", "?kind=ssl_certificate"): "catalogue",
    ("service_list", "?kind=domain"): "domain_request_new",
    ("certificate_list", ""): "certificate_new",
    ("m365_list", ""): "catalogue",
    ("order_list", ""): "catalogue",
    ("domain_request_list", ""): "domain_request_new",
    ("ticket_list", ""): "ticket_new",
    ("staff_access", ""): "ticket_list",
    ("billing", ""): "buy_credits",
    ("invoice_list", ""): "buy_credits",
}  # The activity page is never empty for whoever sees it: signing in is an event.


def elements(node, predicate):
    if isinstance(node, Element):
        if predicate(node):
            yield node
        for child in node.children:
            yield from elements(child, predicate)


def has_class(name: str):
    return lambda element: name in dict(element.attributes).get("class", "").split()


def links_in(element) -> list[str]:
    return [dict(a.attributes).get("href", "") for a in elements(element, lambda e: e.name == "a")]


def empty_states(response) -> list[Element]:
    assert response.status_code == 200
    return list(elements(parse_html(response.content.decode()), has_class("empty-state")))


@pytest.fixture
def newcomer(db):
    """The owner of a customer established in Belgium that has nothing yet."""
    return MembershipFactory(customer__name="Newcomer SRL", customer__country="BE", role=Role.OWNER).user


@pytest.mark.parametrize(("page", "query"), NEXT_STEPS)
def test_an_empty_list_says_what_it_lists_and_links_to_the_next_step(client, newcomer, page, query):
    client.force_login(newcomer)
    blocks = empty_states(client.get(reverse(page) + query))
    assert len(blocks) == 1, f"{page}{query}: expected one .empty-state, found {len(blocks)}"
    assert str(blocks[0]).strip(), f"{page}{query}: the empty state says nothing"
    next_step = reverse(NEXT_STEPS[page, query])
    assert next_step in links_in(blocks[0]), f"{page}{query}: no link to {next_step} in {blocks[0]}"


def test_a_list_with_rows_shows_no_empty_state(client, newcomer):
    ServiceFactory(customer=newcomer.memberships.get().customer, plan=PlanFactory(kind=Kind.SHARED_HOSTING))
    client.force_login(newcomer)
    assert empty_states(client.get(reverse("service_list"))) == []
    assert empty_states(client.get(reverse("dashboard"))) == []


def test_an_empty_dns_zone_links_to_the_form_that_adds_the_first_record(client, newcomer):
    domain = ServiceFactory(
        customer=newcomer.memberships.get().customer, name="new.be", plan=PlanFactory(kind=Kind.DOMAIN)
    )
    dns.create_zone(service=domain, name="new.be")
    client.force_login(newcomer)
    response = client.get(reverse("dns_zone", args=[domain.pk]))
    (block,) = empty_states(response)
    assert "#record-add" in links_in(block)
    assert 'id="record-add"' in response.content.decode()
    (block,) = empty_states(client.get(reverse("dns_zone", args=[domain.pk]) + "?q=nothing"))
    assert reverse("dns_zone", args=[domain.pk]) in links_in(block)


def test_a_member_who_may_not_order_still_reads_what_the_list_is(client, db):
    billing_only = MembershipFactory(customer__name="Newcomer SRL", role=Role.BILLING).user
    client.force_login(billing_only)
    (block,) = empty_states(client.get(reverse("certificate_list")))
    assert "No certificate yet" in str(block)
    assert reverse("certificate_new") not in links_in(block)
