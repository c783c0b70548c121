"""Orders: placed by the customer, accepted or refused by staff; nothing active before (art. 2.1)."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import AuditEvent
from billing.models import Invoice
from services import lifecycle, orders
from services.models import ADDON_KINDS, Kind, Order, Service
from tests.conftest import client_for
from tests.factories import PASSWORD, CustomerFactory, MembershipFactory, PlanFactory, ServiceFactory
from tests.support.test_admin import _FormFields

BXL = ZoneInfo("Europe/Brussels")
NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=BXL)
TODAY = datetime.date(2026, 3, 2)


@pytest.fixture
def hosting_plan(db):
    return PlanFactory(kind=Kind.SHARED_HOSTING, name="Hosting M", price=Decimal("59.00"), period_months=12)


@pytest.fixture
def caching_plan(db):
    return PlanFactory(
        kind=Kind.CACHING, name="Caching", price=Decimal("24.00"), requires_kind=Kind.SHARED_HOSTING, specifications={}
    )


@pytest.fixture
def m365_plan(db):
    return PlanFactory(
        kind=Kind.M365_PACK, name="Business Basic", price=Decimal("5.50"), period_months=0,
        specifications={"max_users": 10},
    )  # fmt: skip


@pytest.fixture
def hosting(customer, hosting_plan):
    return ServiceFactory(customer=customer, plan=hosting_plan, name="www.acme.example")


@pytest.fixture
def staff_client(staff_user):
    Authenticator.objects.create(user=staff_user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    return client_for(staff_user)


def place(customer, by, *lines):
    return orders.place_order(customer=customer, by=by, lines=list(lines))


def refused(customer, by, *lines) -> str:
    with pytest.raises(ValidationError) as raised:
        place(customer, by, *lines)
    return " ".join(raised.value.messages)


# Placing


@pytest.mark.django_db
def test_art_2_1_a_placed_order_awaits_acceptance_and_nothing_is_active_or_invoiced(
    customer, owner, hosting_plan, m365_plan
):
    order = place(customer, owner, (hosting_plan, "shop.acme.example", 1, None), (m365_plan, "Office", 4, None))
    assert (order.status, order.placed_by, order.customer) == (Order.Status.SUBMITTED, owner, customer)
    assert list(order.lines.values_list("plan__name", "name", "quantity", "service")) == [
        ("Hosting M", "shop.acme.example", 1, None),
        ("Business Basic", "Office", 4, None),
    ]
    assert not Service.objects.exists()
    assert not Invoice.objects.exists()
    assert AuditEvent.objects.get(action="order.placed").details == {"lines": 2}


@pytest.mark.django_db
def test_staff_are_told_of_a_new_order(customer, owner, hosting_plan, staff_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = place(customer, owner, (hosting_plan, "shop.acme.example", 1, None))
    [message] = mail.outbox
    assert message.to == ["staff@portal.example"]
    assert message.subject == f"[Order {order.pk}] New order from Acme SRL to accept or refuse"
    assert f"/admin/services/order/{order.pk}/change/" in message.body


@pytest.mark.django_db
def test_a_plan_no_longer_orderable_is_refused(customer, owner):
    retired = PlanFactory(name="Old hosting", is_active=False)
    assert refused(customer, owner, (retired, "old.example", 1, None)) == "Old hosting can no longer be ordered."
    assert not Order.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("kind, page", [(Kind.DOMAIN, "Domains page"), (Kind.SSL_CERTIFICATE, "Certificates page")])
def test_domains_and_certificates_have_their_own_request_flows(customer, owner, kind, page):
    message = refused(customer, owner, (PlanFactory(kind=kind), "acme.be", 1, None))
    assert "not ordered here" in message and page in message


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(ADDON_KINDS))
def test_art_3_2_3_and_3_3_2_an_addon_needs_an_active_shared_hosting_of_the_same_customer(
    customer, owner, other_customer, hosting, kind
):
    plan = PlanFactory(kind=kind, requires_kind=Kind.SHARED_HOSTING)
    wanted = "An add-on can only be ordered for an active shared hosting of yours (art. 3.2.3, 3.3.2)."
    assert "Choose the shared hosting this add-on is for" in refused(customer, owner, (plan, "x", 1, None))
    foreign = ServiceFactory(customer=other_customer, plan=hosting.plan)
    assert refused(customer, owner, (plan, "x", 1, foreign)) == wanted
    suspended = ServiceFactory(customer=customer, plan=hosting.plan, status=Service.Status.SUSPENDED)
    assert refused(customer, owner, (plan, "x", 1, suspended)) == wanted
    domain = ServiceFactory(customer=customer, plan=PlanFactory(kind=Kind.DOMAIN))
    assert refused(customer, owner, (plan, "x", 1, domain)) == wanted
    order = place(customer, owner, (plan, "Option for www", 1, hosting))
    assert order.lines.get().parent_service == hosting


@pytest.mark.django_db
def test_only_addons_belong_to_a_hosting(customer, owner, hosting, hosting_plan):
    assert "Only CMS, managed CMS and caching" in refused(customer, owner, (hosting_plan, "x", 1, hosting))


@pytest.mark.django_db
def test_an_addon_without_a_name_is_named_after_its_hosting(customer, owner, hosting, caching_plan):
    order = place(customer, owner, orders.Item(caching_plan, "  ", 1, hosting))
    assert order.lines.get().name == "Caching for www.acme.example"


@pytest.mark.django_db
@pytest.mark.parametrize("country, allowed", [("BE", True), ("FR", True), ("CH", False), ("US", False)])
def test_art_6_1_2_microsoft_365_is_only_for_customers_established_in_the_eu(owner, m365_plan, country, allowed):
    customer = CustomerFactory(country=country)
    if allowed:
        assert place(customer, owner, (m365_plan, "Office", 3, None)).status == Order.Status.SUBMITTED
    else:
        message = refused(customer, owner, (m365_plan, "Office", 3, None))
        assert message == (
            "Microsoft 365 is only available to customers established in the European Union (art. 6.1.2)."
        )


@pytest.mark.django_db
def test_art_6_1_2_a_pack_allows_at_most_its_users(customer, owner, m365_plan):
    assert place(customer, owner, (m365_plan, "Office", 10, None)).lines.get().quantity == 10
    assert refused(customer, owner, (m365_plan, "Office", 11, None)) == (
        "This pack allows at most 10 users (art. 6.1.2)."
    )


@pytest.mark.django_db
def test_quantities_are_at_least_one_and_one_per_line_outside_microsoft_365(customer, owner, m365_plan, hosting_plan):
    assert refused(customer, owner, (m365_plan, "Office", 0, None)) == "Order at least one."
    assert "Order one per line" in refused(customer, owner, (hosting_plan, "shop.example", 2, None))
    assert refused(customer, owner, (hosting_plan, "   ", 1, None)) == "Name the site or the pack this is for."
    with pytest.raises(ValidationError):
        place(customer, owner)


# Accepting


@pytest.fixture
def mixed_order(customer, owner, hosting, hosting_plan, caching_plan, m365_plan):
    return place(
        customer, owner,
        (hosting_plan, "shop.acme.example", 1, None),
        (caching_plan, "Caching for www", 1, hosting),
        (m365_plan, "Office", 3, None),
    )  # fmt: skip


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_acceptance_creates_one_active_service_per_line_with_its_period_and_history(
    mixed_order, staff_user, hosting, customer
):
    order = orders.accept_order(order=mixed_order, by=staff_user, today=TODAY)
    assert (order.status, order.decided_by, order.decided_at) == (Order.Status.ACCEPTED, staff_user, NOW)
    shop, caching, office = (line.service for line in order.lines.order_by("pk"))
    assert (shop.name, shop.status, shop.started_on, shop.current_period_end, shop.parent) == (
        "shop.acme.example", Service.Status.ACTIVE, TODAY, datetime.date(2027, 3, 2), None,
    )  # fmt: skip
    assert (caching.parent, caching.current_period_end, caching.customer) == (
        hosting,
        datetime.date(2027, 3, 2),
        customer,
    )
    assert (office.current_period_end, office.quantity) == (None, 3)  # indefinite, billed monthly
    assert list(shop.events.values_list("field", "new_value", "actor")) == [
        ("created", "Hosting M (Active)", staff_user.pk),
        ("period", "2026-03-02 → 2027-03-02", staff_user.pk),
    ]
    assert office.events.filter(field="period", new_value="2026-03-02 → indefinite").exists()
    assert AuditEvent.objects.get(action="order.accepted").details == {"invoice": order.invoice.number}


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_acceptance_issues_the_first_invoice_with_one_line_per_order_line_and_belgian_vat(mixed_order, staff_user):
    order = orders.accept_order(order=mixed_order, by=staff_user, today=TODAY)
    invoice = order.invoice
    assert list(invoice.lines.values_list("description", "quantity", "unit_price", "amount")) == [
        ("Hosting M — shop.acme.example", 1, Decimal("59.00"), Decimal("59.00")),
        ("Caching — Caching for www", 1, Decimal("24.00"), Decimal("24.00")),
        ("Business Basic — Office", 3, Decimal("5.50"), Decimal("16.50")),
    ]
    assert (invoice.subtotal, invoice.vat_rate, invoice.vat_amount, invoice.total) == (
        Decimal("99.50"), Decimal("21.00"), Decimal("20.90"), Decimal("120.40"),
    )  # fmt: skip
    assert (invoice.issued_on, invoice.issued_by, invoice.customer) == (TODAY, staff_user, order.customer)


@pytest.mark.django_db
def test_acceptance_tells_the_customer_with_the_services_and_the_invoice(
    mixed_order, staff_user, owner, billing_member, technical_member, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order = orders.accept_order(order=mixed_order, by=staff_user, today=TODAY)
    [message] = mail.outbox
    assert message.subject == f"[Order {order.pk}] Your order is accepted"
    # Who buys (owner, billing contact) and the company's billing address; not the technical contact.
    assert message.to == ["billing@SRL.example", "billing@acme.example", "owner@acme.example"]
    assert "shop.acme.example: from March 2, 2026 to March 2, 2027" in message.body
    assert "Office × 3: from March 2, 2026, indefinite contract" in message.body
    assert f"The first invoice, {order.invoice.number}, amounts to 120.40 EUR incl. VAT" in message.body
    assert order.get_absolute_url() in message.body


@pytest.mark.django_db
def test_art_3_2_3_acceptance_checks_again_that_the_hosting_is_still_active(
    customer, owner, staff_user, hosting, caching_plan
):
    order = place(customer, owner, (caching_plan, "Caching for www", 1, hosting))
    lifecycle.set_status(service=hosting, status=Service.Status.ENDED, by=staff_user)
    with pytest.raises(ValidationError) as raised:
        orders.accept_order(order=order, by=staff_user, today=TODAY)
    assert "the shared hosting www.acme.example is no longer active" in raised.value.messages[0]
    order.refresh_from_db()
    assert order.status == Order.Status.SUBMITTED
    assert not Invoice.objects.exists() and Service.objects.filter(parent=hosting).count() == 0


@pytest.mark.django_db
def test_an_order_is_decided_only_once(customer, owner, staff_user, hosting_plan):
    order = place(customer, owner, (hosting_plan, "shop.acme.example", 1, None))
    orders.accept_order(order=order, by=staff_user, today=TODAY)
    for decide in (
        lambda: orders.accept_order(order=order, by=staff_user, today=TODAY),
        lambda: orders.refuse_order(order=order, by=staff_user, reason="No"),
        lambda: orders.cancel_order(order=order, by=owner),
    ):
        with pytest.raises(ValidationError, match="no longer awaiting a decision"):
            decide()
    assert Service.objects.count() == 1 and Invoice.objects.count() == 1


# Refusing and cancelling


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   "])
def test_a_refusal_needs_a_reason(customer, owner, staff_user, hosting_plan, reason):
    order = place(customer, owner, (hosting_plan, "shop.acme.example", 1, None))
    with pytest.raises(ValidationError) as raised:
        orders.refuse_order(order=order, by=staff_user, reason=reason)
    assert raised.value.message_dict == {"refusal_reason": ["Give the customer the reason of the refusal."]}
    order.refresh_from_db()
    assert order.status == Order.Status.SUBMITTED


@pytest.mark.django_db
def test_a_refused_order_creates_nothing_and_the_customer_reads_the_reason(
    customer, owner, staff_user, hosting_plan, django_capture_on_commit_callbacks
):
    order = place(customer, owner, (hosting_plan, "shop.acme.example", 1, None))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        orders.refuse_order(order=order, by=staff_user, reason="The domain isn't yours, we can't host it.")
    order.refresh_from_db()
    assert (order.status, order.decided_by, order.refusal_reason) == (
        Order.Status.REFUSED, staff_user, "The domain isn't yours, we can't host it.",
    )  # fmt: skip
    assert not Service.objects.exists() and not Invoice.objects.exists()
    [message] = mail.outbox
    assert message.subject == f"[Order {order.pk}] We could not accept your order"
    assert "The domain isn't yours, we can't host it." in message.body  # plain text, not HTML-escaped
    assert AuditEvent.objects.filter(action="order.refused", actor=staff_user).exists()


@pytest.mark.django_db
def test_the_customer_cancels_an_order_awaiting_a_decision(customer, owner, hosting_plan):
    order = orders.cancel_order(order=place(customer, owner, (hosting_plan, "x.example", 1, None)), by=owner)
    assert (order.status, order.decided_by) == (Order.Status.CANCELLED, owner)
    assert AuditEvent.objects.filter(action="order.cancelled", actor=owner, customer=customer).exists()


# The customer's pages


@pytest.mark.django_db
def test_the_catalogue_lists_active_plans_by_kind_with_specifications_and_prices(
    owner_client, hosting_plan, caching_plan, m365_plan
):
    PlanFactory(name="Retired hosting", is_active=False)
    PlanFactory(kind=Kind.DOMAIN, name=".be domain", price=Decimal("12.00"), specifications={})
    body = owner_client.get(reverse("catalogue")).content.decode()
    assert "Retired hosting" not in body
    assert body.index("Shared web hosting") < body.index("Caching") < body.index("Domain name")
    assert "Disk space (GB)" in body and "Maximum users per pack" in body
    assert "59.00 EUR per year, excl. VAT" in body
    assert "5.50 EUR per user per month, excl. VAT" in body
    assert "Domain names are not ordered here" in body and reverse("domain_request_new") in body
    assert f"{reverse('order_new')}?plan={hosting_plan.pk}" in body
    assert f"{reverse('order_new')}?plan={m365_plan.pk}" in body
    assert "You have no active shared hosting yet." in body


@pytest.mark.django_db
def test_the_catalogue_offers_no_order_button_to_roles_that_cannot_spend(technical_client, hosting_plan):
    body = technical_client.get(reverse("catalogue")).content.decode()
    assert "Hosting M" in body and reverse("order_new") not in body
    assert "Your role does not allow placing orders." in body


@pytest.mark.django_db
def test_art_6_1_2_the_catalogue_offers_microsoft_365_only_to_customers_in_the_eu(m365_plan):
    swiss = MembershipFactory(customer=CustomerFactory(country="CH")).user
    body = client_for(swiss).get(reverse("catalogue")).content.decode()
    assert "Business Basic" in body and f"?plan={m365_plan.pk}" not in body
    assert "not established in the European Union" in body


@pytest.mark.django_db
def test_the_navigation_links_to_the_catalogue(owner_client):
    assert f'href="{reverse("catalogue")}"' in owner_client.get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
def test_the_order_form_shows_the_chosen_plan(owner_client, hosting_plan):
    body = owner_client.get(reverse("order_new"), {"plan": hosting_plan.pk}).content.decode()
    assert "Hosting M" in body and 'name="name"' in body and 'name="parent_service"' not in body
    assert f'<input type="hidden" name="plan" value="{hosting_plan.pk}">' in body


@pytest.mark.django_db
def test_a_plan_that_is_not_a_number_shows_the_form_without_a_plan(owner_client, hosting_plan, reauthenticated):
    # Found by tests/security/test_fuzz_forms.py: "²".isdigit() is true, but it is no primary key.
    assert owner_client.get(reverse("order_new"), {"plan": "²"}).status_code == 200
    response = owner_client.post(reverse("order_new"), {"plan": "²", "name": "x", "quantity": "1"})
    assert response.status_code == 200 and not Order.objects.exists()


@pytest.mark.django_db
def test_choosing_an_addon_plan_with_htmx_shows_the_hosting_select(owner_client, hosting, caching_plan, other_owner):
    ServiceFactory(customer=hosting.customer, plan=hosting.plan, name="gone.acme.example", status="ended")
    response = owner_client.get(reverse("order_new"), {"plan": caching_plan.pk}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="order-form"') and "<html" not in body
    assert 'name="parent_service"' in body and "www.acme.example" in body
    assert "gone.acme.example" not in body  # only active hostings


@pytest.mark.django_db
def test_an_addon_cannot_even_be_tried_without_an_active_hosting(owner_client, caching_plan):
    body = owner_client.get(reverse("order_new"), {"plan": caching_plan.pk}).content.decode()
    assert "This add-on needs an active shared hosting of yours" in body
    assert "Place the order" not in body


@pytest.mark.django_db
def test_a_microsoft_365_plan_asks_for_the_number_of_users(owner_client, m365_plan):
    body = owner_client.get(reverse("order_new"), {"plan": m365_plan.pk}).content.decode()
    assert 'name="quantity"' in body and 'max="10"' in body and "At most 10 users per pack." in body


@pytest.mark.django_db
def test_an_order_placed_in_the_portal_awaits_acceptance(owner_client, owner, hosting, caching_plan, reauthenticated):
    response = owner_client.post(
        reverse("order_new"), {"plan": caching_plan.pk, "name": "", "quantity": "1", "parent_service": hosting.pk}
    )
    order = Order.objects.get()
    assert response.status_code == 302 and response.url == order.get_absolute_url()
    assert (order.placed_by, order.lines.get().parent_service) == (owner, hosting)
    page = owner_client.get(response.url).content.decode()
    assert f"Order {order.pk} is placed. Nothing is active or invoiced until we accept it." in page
    assert "Awaiting our acceptance" in page and reverse("order_cancel", args=[order.pk]) in page


@pytest.mark.django_db
def test_the_order_form_shows_the_rules_errors(owner_client, m365_plan, reauthenticated):
    response = owner_client.post(reverse("order_new"), {"plan": m365_plan.pk, "name": "Office", "quantity": "11"})
    assert response.status_code == 200
    assert "This pack allows at most 10 users (art. 6.1.2)." in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_a_foreign_or_inactive_hosting_cannot_be_posted(
    owner_client, customer, other_customer, caching_plan, reauthenticated
):
    ServiceFactory(customer=customer, name="www.acme.example")  # so the form is offered
    foreign = ServiceFactory(customer=other_customer)
    suspended = ServiceFactory(customer=customer, status=Service.Status.SUSPENDED)
    for hosting in (foreign, suspended):
        data = {"plan": caching_plan.pk, "name": "x", "quantity": "1", "parent_service": hosting.pk}
        response = owner_client.post(reverse("order_new"), data)
        assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_placing_an_order_asks_for_the_password_again(owner_client, hosting_plan):
    response = owner_client.post(reverse("order_new"), {"plan": hosting_plan.pk, "name": "x.example", "quantity": "1"})
    assert response.status_code == 302 and response.url.startswith(reverse("account_reauthenticate"))
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_once_the_password_is_confirmed_the_suspended_order_goes_through(owner_client, owner, hosting_plan):
    data = {"plan": hosting_plan.pk, "name": "x.example", "quantity": "1"}
    prompt = owner_client.post(reverse("order_new"), data)
    response = owner_client.post(prompt.url, {"password": PASSWORD})
    order = Order.objects.get()
    assert response.status_code == 302 and response.url == order.get_absolute_url()
    assert (order.placed_by, order.lines.get().name) == (owner, "x.example")


@pytest.mark.django_db
def test_ordering_needs_the_spend_permission(technical_client, billing_member, hosting_plan, reauthenticated):
    data = {"plan": hosting_plan.pk, "name": "x.example", "quantity": "1"}
    assert technical_client.get(reverse("order_new"), {"plan": hosting_plan.pk}).status_code == 403
    assert technical_client.post(reverse("order_new"), data).status_code == 403
    assert not Order.objects.exists()
    assert client_for(billing_member).post(reverse("order_new"), data).status_code == 302


@pytest.mark.django_db
def test_the_customer_cancels_from_the_order_page(owner_client, customer, owner, hosting_plan):
    order = place(customer, owner, (hosting_plan, "x.example", 1, None))
    response = owner_client.post(reverse("order_cancel", args=[order.pk]), follow=True)
    assert f"Order {order.pk} is cancelled." in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    response = owner_client.post(reverse("order_cancel", args=[order.pk]), follow=True)
    assert "no longer awaiting a decision" in response.content.decode()


@pytest.mark.django_db
def test_a_technical_member_sees_orders_but_cannot_cancel_them(technical_client, customer, owner, hosting_plan):
    order = place(customer, owner, (hosting_plan, "x.example", 1, None))
    assert "x.example" in technical_client.get(reverse("order_list")).content.decode()
    assert (
        reverse("order_cancel", args=[order.pk]) not in technical_client.get(order.get_absolute_url()).content.decode()
    )
    assert technical_client.post(reverse("order_cancel", args=[order.pk])).status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.SUBMITTED


@pytest.mark.django_db
def test_the_order_page_shows_the_refusal_reason_or_the_services_and_invoice(
    owner_client, customer, owner, staff_user, hosting_plan
):
    refused_order = place(customer, owner, (hosting_plan, "no.example", 1, None))
    orders.refuse_order(order=refused_order, by=staff_user, reason="Not a domain of yours.")
    assert "Not a domain of yours." in owner_client.get(refused_order.get_absolute_url()).content.decode()
    accepted = orders.accept_order(
        order=place(customer, owner, (hosting_plan, "yes.example", 1, None)), by=staff_user, today=TODAY
    )
    body = owner_client.get(accepted.get_absolute_url()).content.decode()
    assert accepted.invoice.get_absolute_url() in body and accepted.lines.get().service.get_absolute_url() in body


@pytest.mark.django_db
def test_another_customer_neither_sees_nor_cancels_an_order(other_client, customer, owner, hosting_plan):
    order = place(customer, owner, (hosting_plan, "secret.acme.example", 1, None))
    assert other_client.get(order.get_absolute_url()).status_code == 404
    assert other_client.post(reverse("order_cancel", args=[order.pk])).status_code == 404
    assert "secret.acme.example" not in other_client.get(reverse("order_list")).content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.SUBMITTED


@pytest.mark.django_db
def test_the_orders_list_query_count_does_not_grow_with_orders(
    owner_client, customer, owner, hosting_plan, staff_user, django_assert_max_num_queries
):
    def add_orders(count: int):
        for i in range(count):
            order = place(
                customer, owner, (hosting_plan, f"site{i}.example", 1, None), (hosting_plan, "b.example", 1, None)
            )
            if i % 2:
                orders.accept_order(order=order, by=staff_user, today=TODAY)

    add_orders(2)
    owner_client.get(reverse("order_list"))  # the first request of a session records it
    with django_assert_max_num_queries(15) as small:
        owner_client.get(reverse("order_list"))
    add_orders(30)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = owner_client.get(reverse("order_list"))
    assert "Page 1 of 2" in response.content.decode()


# The admin


def act(client, action: str, *selected: Order, **extra):
    data = {"action": action, "_selected_action": [o.pk for o in selected], "index": "0", **extra}
    return client.post(reverse("admin:services_order_changelist"), data, follow=True)


@pytest.mark.django_db
def test_staff_see_orders_with_customer_status_products_and_invoice(staff_client, customer, owner, hosting_plan):
    order = place(customer, owner, (hosting_plan, "shop.acme.example", 1, None))
    body = staff_client.get(reverse("admin:services_order_changelist")).content.decode()
    assert f"#{order.pk}" in body and "Acme SRL" in body and "Hosting M — shop.acme.example" in body
    assert staff_client.get(reverse("admin:services_order_add")).status_code == 403


@pytest.mark.django_db
def test_staff_accept_orders_with_the_admin_action(staff_client, staff_user, customer, owner, hosting_plan):
    first = place(customer, owner, (hosting_plan, "a.example", 1, None))
    second = place(customer, owner, (hosting_plan, "b.example", 1, None))
    orders.cancel_order(order=second, by=owner)
    response = act(staff_client, "accept", first, second)
    body = response.content.decode()
    assert "1 order accepted." in body and "no longer awaiting a decision" in body
    first.refresh_from_db()
    assert (first.status, first.decided_by) == (Order.Status.ACCEPTED, staff_user)
    assert Service.objects.get().name == "a.example"


@pytest.mark.django_db
def test_staff_refuse_orders_through_a_page_that_asks_for_the_reason(
    staff_client, staff_user, customer, owner, hosting_plan
):
    first = place(customer, owner, (hosting_plan, "a.example", 1, None))
    second = place(customer, owner, (hosting_plan, "b.example", 1, None))
    page = act(staff_client, "refuse", first, second)
    assert page.templates[0].name == "services/order_admin_refuse.html"
    assert "reason of the refusal" in page.content.decode().lower()
    again = act(staff_client, "refuse", first, second, refusal_reason="  ")
    assert again.templates[0].name == "services/order_admin_refuse.html"
    assert Order.objects.filter(status=Order.Status.SUBMITTED).count() == 2
    done = act(staff_client, "refuse", first, second, refusal_reason="We do not host this kind of site.")
    assert "2 orders refused." in done.content.decode()
    assert set(Order.objects.values_list("status", "refusal_reason")) == {
        (Order.Status.REFUSED, "We do not host this kind of site.")
    }


def order_form(client, order) -> dict:
    response = client.get(reverse("admin:services_order_change", args=[order.pk]))
    assert response.status_code == 200
    parser = _FormFields("order_form")
    parser.feed(response.content.decode())
    return {**parser.data, "_save": "Save"}


@pytest.mark.django_db
def test_staff_decide_on_the_order_page_and_a_refusal_needs_a_reason(
    staff_client, staff_user, customer, owner, hosting_plan
):
    order = place(customer, owner, (hosting_plan, "a.example", 1, None))
    url = reverse("admin:services_order_change", args=[order.pk])
    response = staff_client.post(url, {**order_form(staff_client, order), "decision": "refuse", "refusal_reason": ""})
    assert response.status_code == 200 and "Give the customer the reason of the refusal." in response.content.decode()
    response = staff_client.post(url, {**order_form(staff_client, order), "decision": "accept"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.ACCEPTED and order.invoice is not None
    body = staff_client.get(url).content.decode()
    assert 'name="decision"' not in body  # decided: the page is read-only


@pytest.mark.django_db
def test_the_order_page_refuses_to_accept_an_addon_whose_hosting_ended(
    staff_client, staff_user, customer, owner, hosting, caching_plan
):
    order = place(customer, owner, (caching_plan, "Caching", 1, hosting))
    lifecycle.set_status(service=hosting, status=Service.Status.ENDED, by=staff_user)
    url = reverse("admin:services_order_change", args=[order.pk])
    response = staff_client.post(url, {**order_form(staff_client, order), "decision": "accept"})
    assert response.status_code == 200 and "is no longer active" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.SUBMITTED


@pytest.mark.django_db
def test_art_6_1_4_integration_services_agreed_with_the_order_are_on_its_first_invoice(customer, owner, staff_user):
    from decimal import Decimal

    from services import m365
    from services.models import Kind
    from tests.factories import PlanFactory

    pack = PlanFactory(kind=Kind.M365_PACK, name="Business Basic", price=Decimal("5.00"), period_months=0,
                       specifications={"max_users": 300})  # fmt: skip
    order = orders.place_order(customer=customer, by=owner, lines=[(pack, "Acme office", 4, None)])
    m365.add_integration(order=order, scope="Migrate 4 mailboxes", price=Decimal("200.00"), by=staff_user)
    invoice = orders.accept_order(order=order, by=staff_user).invoice
    assert invoice.subtotal == Decimal("220.00")  # 4 licences x 5.00 for the first month, plus the integration
    first = invoice.lines.get(service__isnull=False)
    assert (first.period_start.day, first.quantity) == (1, 4)
