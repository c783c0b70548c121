"""Microsoft 365 (art. 6): licences added and cancelled at any time within the pack's limits,
prices by date and their announcement, ending the contract, integration services, the page."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import AuditEvent
from accounts.roles import Role
from services import m365, orders
from services.microsoft import ManualMicrosoft, Microsoft, get_microsoft
from services.models import Kind, LicenceChange, OrderIntegration, PriceChange, Service
from tests.conftest import client_for
from tests.factories import CustomerFactory, MembershipFactory, PlanFactory, ServiceFactory

BXL = ZoneInfo("Europe/Brussels")
NOW = datetime.datetime(2027, 1, 15, 10, 0, tzinfo=BXL)
TODAY = NOW.date()
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def m365_plan(**fields):
    fields = {
        "kind": Kind.M365_PACK, "price": Decimal("12.50"), "period_months": 0,
        "specifications": {"max_users": 300}, **fields,
    }  # fmt: skip
    return PlanFactory(**fields)


def make_pack(customer, *, plan=None, quantity=3, name="Acme Office", **fields):
    return ServiceFactory(
        customer=customer, plan=plan or m365_plan(), name=name, quantity=quantity, current_period_end=None, **fields
    )


@pytest.fixture
def plan(db):
    return m365_plan(name="Business Standard")


@pytest.fixture
def pack(customer, plan):
    return make_pack(customer, plan=plan)


class AppliedAtOnce(Microsoft):
    """A backend that applies everything at once, as an API backend would."""

    calls: list = []

    def set_licence_count(self, service, quantity):
        self.calls.append(("set_licence_count", service.pk, quantity))
        return True

    def end_subscription(self, service):
        self.calls.append(("end_subscription", service.pk))
        return True


# Licences (art. 6.1.2, 6.1.5)


@pytest.mark.django_db
def test_art_6_1_5_licences_are_added_and_cancelled_at_any_time_within_the_packs_limit(customer, owner):
    pack = make_pack(customer, plan=m365_plan(specifications={"max_users": 5}), quantity=3)
    m365.change_licences(service=pack, delta=2, by=owner)
    assert pack.quantity == 5 and Service.objects.get(pk=pack.pk).quantity == 5
    with pytest.raises(ValidationError, match="at most 5 users") as refused:
        m365.change_licences(service=pack, delta=1, by=owner)
    assert "You can add 0 more licences." in str(refused.value)
    m365.change_licences(service=pack, delta=-4, by=owner)
    assert Service.objects.get(pk=pack.pk).quantity == 1
    assert list(LicenceChange.objects.order_by("pk").values_list("delta", "quantity_after")) == [(2, 5), (-4, 1)]


@pytest.mark.django_db
def test_art_6_1_2_the_limit_message_says_how_many_can_still_be_added(customer, owner):
    pack = make_pack(customer, plan=m365_plan(specifications={"max_users": 10}), quantity=8)
    with pytest.raises(ValidationError, match="at most 10 users") as refused:
        m365.change_licences(service=pack, delta=5, by=owner)
    assert "You can add 2 more licences." in str(refused.value)
    assert Service.objects.get(pk=pack.pk).quantity == 8 and not LicenceChange.objects.exists()


@pytest.mark.django_db
def test_a_pack_without_a_user_limit_in_its_specifications_takes_any_number(customer, owner):
    pack = make_pack(customer, plan=m365_plan(specifications={}), quantity=3)
    m365.change_licences(service=pack, delta=1000, by=owner)
    assert pack.quantity == 1003


@pytest.mark.django_db
@pytest.mark.parametrize("delta", [0, -4, True, "1", 1.5])
def test_nothing_no_more_than_the_pack_has_and_only_whole_numbers_can_be_changed(customer, owner, pack, delta):
    with pytest.raises(ValidationError):
        m365.change_licences(service=pack, delta=delta, by=owner)
    assert Service.objects.get(pk=pack.pk).quantity == 3 and not LicenceChange.objects.exists()


@pytest.mark.django_db
def test_art_6_1_2_a_customer_not_established_in_the_eu_cannot_add_licences_but_may_cancel(owner):
    swiss = CustomerFactory(name="Helvetia AG", country="CH")
    pack = make_pack(swiss, quantity=3)
    with pytest.raises(ValidationError, match="established in the European Union"):
        m365.change_licences(service=pack, delta=1, by=owner)
    m365.change_licences(service=pack, delta=-1, by=owner)  # leaving must stay possible
    assert Service.objects.get(pk=pack.pk).quantity == 2


@pytest.mark.django_db
def test_only_an_active_microsoft_365_pack_has_licences_to_change(customer, owner):
    hosting = ServiceFactory(customer=customer, plan=PlanFactory(kind=Kind.SHARED_HOSTING))
    with pytest.raises(ValidationError, match="not a Microsoft 365 pack"):
        m365.change_licences(service=hosting, delta=1, by=owner)
    suspended = make_pack(customer, status=Service.Status.SUSPENDED)
    with pytest.raises(ValidationError, match="not active"):
        m365.change_licences(service=suspended, delta=1, by=owner)


@pytest.mark.django_db
def test_art_6_1_5_every_change_is_kept_with_who_and_when_and_waits_to_be_done_at_microsoft(
    customer, owner, staff_user, pack
):
    change = m365.change_licences(service=pack, delta=2, by=owner, now=NOW)
    change.refresh_from_db()
    assert (change.by, change.created_at, change.delta, change.quantity_after) == (owner, NOW, 2, 5)
    assert change.fulfilment == LicenceChange.Fulfilment.PENDING and change.fulfilled_at is None
    audit = AuditEvent.objects.get(action="m365.licences_changed")
    assert (audit.actor, audit.customer, audit.details) == (owner, customer, {"delta": 2, "quantity": 5})

    later = NOW + datetime.timedelta(hours=2)
    assert m365.mark_done(change=change, by=staff_user, now=later) is True
    change.refresh_from_db()
    assert (change.fulfilment, change.fulfilled_by, change.fulfilled_at) == ("done", staff_user, later)
    assert m365.mark_done(change=change, by=staff_user, now=later + datetime.timedelta(hours=1)) is False
    change.refresh_from_db()
    assert change.fulfilled_at == later  # the first "done" is the one kept


@pytest.mark.django_db
def test_the_manual_backend_is_the_default_and_never_pretends(settings):
    settings.MICROSOFT_BACKEND = ""
    backend = get_microsoft()
    assert isinstance(backend, ManualMicrosoft)
    assert backend.set_licence_count(Service(), 3) is False and backend.end_subscription(Service()) is False


@pytest.mark.django_db
def test_a_backend_that_applies_the_change_at_once_marks_it_done(settings, customer, owner, pack):
    settings.MICROSOFT_BACKEND = "tests.services.test_m365.AppliedAtOnce"
    AppliedAtOnce.calls = []
    change = m365.change_licences(service=pack, delta=1, by=owner, now=NOW)
    assert AppliedAtOnce.calls == [("set_licence_count", pack.pk, 4)]
    change.refresh_from_db()
    assert (change.fulfilment, change.fulfilled_at, change.fulfilled_by) == ("done", NOW, None)
    m365.end_contract(service=pack, by=owner, now=NOW)
    assert AppliedAtOnce.calls[-1] == ("end_subscription", pack.pk)
    assert not LicenceChange.objects.filter(fulfilment="pending").exists()


@pytest.mark.django_db
def test_the_licences_of_an_accepted_order_are_sent_to_microsoft_once(customer, owner, staff_user, plan):
    order = orders.place_order(customer=customer, by=owner, lines=[(plan, "Acme Office", 10, None)])
    order = orders.accept_order(order=order, by=staff_user)  # acceptance sends the licences to Microsoft
    service = order.lines.get().service
    change = service.licence_changes.get()
    assert (change.delta, change.quantity_after, change.fulfilment) == (10, 10, "pending")
    with pytest.raises(ValidationError, match="already sent"):
        m365.start_licences(service=service, by=staff_user, now=NOW)


# Ending (art. 6.3)


@pytest.mark.django_db
def test_art_6_3_3_cancelling_the_last_licence_ends_the_contract_by_itself(
    customer, owner, django_capture_on_commit_callbacks, mailoutbox
):
    pack = make_pack(customer, quantity=1)
    with django_capture_on_commit_callbacks(execute=True):
        change = m365.change_licences(service=pack, delta=-1, by=owner, now=NOW)
    pack.refresh_from_db()
    assert (pack.status, pack.quantity) == (Service.Status.ENDED, 0)
    assert (change.quantity_after, change.fulfilment) == (0, "pending")  # staff end it at Microsoft
    events = list(pack.events.values_list("field", "new_value", "actor"))
    assert ("status", "Ended", owner.pk) in events
    assert ("note", "Its last licence was cancelled (art. 6.3.3).", owner.pk) in events
    assert AuditEvent.objects.filter(action="m365.contract_ended", customer=customer).exists()
    assert len(mailoutbox) == 1 and "Acme Office has ended" in mailoutbox[0].subject
    assert "owner@acme.example" in mailoutbox[0].to
    with pytest.raises(ValidationError, match="not active"):
        m365.change_licences(service=pack, delta=1, by=owner)


@pytest.mark.django_db
def test_art_6_3_2_the_customer_ends_the_contract_at_once_and_its_licences_are_cancelled(customer, owner, pack):
    m365.end_contract(service=pack, by=owner, now=NOW)
    pack.refresh_from_db()
    assert (pack.status, pack.quantity) == (Service.Status.ENDED, 0)
    change = LicenceChange.objects.get()
    assert (change.delta, change.quantity_after, change.by, change.fulfilment) == (-3, 0, owner, "pending")
    assert pack.events.filter(field="note", new_value="Ended by the customer (art. 6.3.2).").exists()
    assert m365.monthly_total(pack, TODAY) == Decimal("0.00")
    with pytest.raises(ValidationError, match="already ended"):
        m365.end_contract(service=pack, by=owner, now=NOW)


# Prices (art. 6.1.6)


@pytest.mark.django_db
def test_art_6_1_6_the_price_in_force_is_the_latest_change_effective_by_that_day(plan, staff_user):
    m365.record_price_change(plan=plan, price=Decimal("14.10"), effective_on=datetime.date(2027, 9, 1), by=staff_user)
    m365.record_price_change(plan=plan, price=Decimal("13.80"), effective_on=datetime.date(2027, 3, 1), by=staff_user)
    assert m365.price_in_force(plan, datetime.date(2027, 2, 28)) == Decimal("12.50")
    assert m365.price_in_force(plan, datetime.date(2027, 3, 1)) == Decimal("13.80")
    assert m365.price_in_force(plan, datetime.date(2027, 8, 31)) == Decimal("13.80")
    assert m365.price_in_force(plan, datetime.date(2028, 1, 1)) == Decimal("14.10")
    assert [c.price for c in m365.upcoming_price_changes(plan, TODAY)] == [Decimal("13.80"), Decimal("14.10")]
    assert [c.price for c in m365.upcoming_price_changes(plan, datetime.date(2027, 3, 1))] == [Decimal("14.10")]


@pytest.mark.django_db
def test_totals_are_exact_decimals_of_licences_times_the_price_in_force(customer, staff_user):
    plan = m365_plan(price=Decimal("10.10"))
    pack = make_pack(customer, plan=plan, quantity=3)
    other = make_pack(customer, plan=m365_plan(name="Business Basic", price=Decimal("5.60")), quantity=7, name="B")
    total = m365.monthly_total(pack, TODAY)
    assert total == Decimal("30.30") and isinstance(total, Decimal) and total.as_tuple().exponent == -2
    m365.record_price_change(plan=plan, price=Decimal("10.33"), effective_on=datetime.date(2027, 2, 1), by=staff_user)
    assert m365.monthly_total(pack, datetime.date(2027, 2, 1)) == Decimal("30.99")
    packs = [m365.pack(pack, TODAY), m365.pack(other, TODAY)]
    assert m365.grand_total(packs) == Decimal("69.50")  # 30.30 + 39.20, no float on the way


@pytest.mark.django_db
def test_art_6_1_6_a_price_change_applies_from_a_later_date_and_only_to_microsoft_365_packs(plan, staff_user):
    with pytest.raises(ValidationError, match="later date"):
        m365.record_price_change(plan=plan, price=Decimal("13.00"), effective_on=TODAY, by=staff_user)
    with pytest.raises(ValidationError, match="Microsoft 365"):
        m365.record_price_change(
            plan=PlanFactory(), price=Decimal("13.00"), effective_on=datetime.date(2027, 3, 1), by=staff_user
        )
    with pytest.raises(ValidationError, match="zero or more"):
        m365.record_price_change(plan=plan, price=Decimal("-1"), effective_on=datetime.date(2027, 3, 1), by=staff_user)
    change = m365.record_price_change(
        plan=plan, price=Decimal("13.00"), effective_on=datetime.date(2027, 3, 1), by=staff_user
    )
    assert change.created_by == staff_user and change.announced_at is None
    with pytest.raises(ValidationError, match="already has a price change"):
        m365.record_price_change(
            plan=plan, price=Decimal("13.50"), effective_on=datetime.date(2027, 3, 1), by=staff_user
        )


@pytest.mark.django_db
def test_art_6_1_6_customers_with_an_active_pack_are_told_once_before_the_new_price_applies(
    customer, owner, technical_member, plan, staff_user, django_capture_on_commit_callbacks, mailoutbox
):
    make_pack(customer, plan=plan, quantity=4, name="Acme Office")
    globex = CustomerFactory(name="Globex NV", preferred_language="fr")
    make_pack(globex, plan=plan, quantity=2, name="Globex 365")
    make_pack(CustomerFactory(name="Gone BV"), plan=plan, status=Service.Status.ENDED, quantity=0)
    make_pack(CustomerFactory(name="Other plan BV"), plan=m365_plan(name="Business Basic"))
    change = m365.record_price_change(
        plan=plan, price=Decimal("13.80"), effective_on=datetime.date(2027, 3, 1), by=staff_user
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert m365.announce_price_change(change=change, now=NOW, by=staff_user) == 2
    assert PriceChange.objects.get(pk=change.pk).announced_at == NOW
    assert len(mailoutbox) == 2
    acme_mail = next(m for m in mailoutbox if "owner@acme.example" in m.to)
    assert acme_mail.to == sorted([customer.billing_email, "owner@acme.example"])  # who buys, not the technical contact
    assert "Business Standard" in acme_mail.subject and "March 1, 2027" in acme_mail.subject
    assert "from 12.50 EUR to 13.80 EUR per month" in acme_mail.body
    assert "Acme Office: 4 licences, 55.20 EUR per month" in acme_mail.body
    assert "Globex" not in acme_mail.body
    assert any("mars 2027" in m.subject for m in mailoutbox)  # Globex reads French

    with django_capture_on_commit_callbacks(execute=True):
        assert m365.announce_price_change(change=change, now=NOW + datetime.timedelta(hours=1)) == 0
    assert len(mailoutbox) == 2 and PriceChange.objects.get(pk=change.pk).announced_at == NOW


# Integration services (art. 6.1.4)


@pytest.mark.django_db
def test_art_6_1_4_integration_services_are_recorded_on_the_order_with_their_scope_and_price(
    customer, owner, staff_user, plan
):
    order = orders.place_order(customer=customer, by=owner, lines=[(plan, "Acme Office", 10, None)])
    integration = m365.add_integration(
        order=order, scope="  Migrate 10 mailboxes from Gmail by 1 March  ", price=Decimal("450.00"), by=staff_user
    )
    assert (integration.order, integration.scope, integration.price) == (
        order, "Migrate 10 mailboxes from Gmail by 1 March", Decimal("450.00")
    )  # fmt: skip
    [line] = m365.integration_lines(order)
    assert line.unit_price == Decimal("450.00") and "Migrate 10 mailboxes" in line.description
    assert AuditEvent.objects.filter(action="m365.integration_added", customer=customer, actor=staff_user).exists()


@pytest.mark.django_db
def test_integration_services_need_a_scope_a_price_and_an_order_of_a_pack(customer, owner, staff_user, plan):
    pack_order = orders.place_order(customer=customer, by=owner, lines=[(plan, "Acme Office", 10, None)])
    with pytest.raises(ValidationError, match="Describe"):
        m365.add_integration(order=pack_order, scope=" ", price=Decimal("10"), by=staff_user)
    with pytest.raises(ValidationError, match="zero or more"):
        m365.add_integration(order=pack_order, scope="Setup", price=Decimal("-10"), by=staff_user)
    hosting = PlanFactory()
    hosting_order = orders.place_order(customer=customer, by=owner, lines=[(hosting, "www.acme.example", 1, None)])
    with pytest.raises(ValidationError, match="order of a Microsoft 365 pack"):
        m365.add_integration(order=hosting_order, scope="Setup", price=Decimal("10"), by=staff_user)
    orders.cancel_order(order=pack_order, by=owner)
    with pytest.raises(ValidationError, match="refused or cancelled"):
        m365.add_integration(order=pack_order, scope="Setup", price=Decimal("10"), by=staff_user)
    assert not OrderIntegration.objects.exists()


# The licences page


@pytest.mark.django_db
def test_the_licences_page_shows_each_pack_its_price_totals_limits_and_the_admin_centre(
    owner_client, customer, owner, pack, staff_user
):
    make_pack(customer, plan=m365_plan(name="Business Basic", price=Decimal("5.60")), quantity=2, name="Acme Basic")
    m365.change_licences(service=pack, delta=1, by=owner)
    m365.record_price_change(
        plan=pack.plan, price=Decimal("13.80"), effective_on=datetime.date(2027, 3, 1), by=staff_user
    )
    body = owner_client.get(reverse("m365_list")).content.decode()
    assert "Acme Office" in body and "Acme Basic" in body
    assert "12.50 EUR per licence per month" in body
    assert "50.00 EUR excl. VAT" in body  # 4 × 12.50
    assert "11.20 EUR excl. VAT" in body  # 2 × 5.60
    assert "All packs together: 61.20 EUR per month" in body
    assert "at most 300 users per pack" in body
    assert 'href="https://admin.microsoft.com"' in body
    assert "not assigned to anyone is billed all the same" in body
    assert "Being applied at Microsoft" in body
    assert "From March 1, 2027 the unit price becomes 13.80 EUR" in body and "55.20 EUR per month" in body
    assert f'href="{reverse("m365_list")}" aria-current="page"' in body  # the nav entry points here


@pytest.mark.django_db
def test_the_nav_entry_microsoft_365_leads_to_the_licences_page(owner_client):
    body = owner_client.get(reverse("dashboard")).content.decode()
    nav = body[body.index('class="main-nav"') :].split("</nav>")[0]
    assert f'<a href="{reverse("m365_list")}" >Microsoft 365</a>' in nav and "?kind=m365_pack" not in nav


@pytest.mark.django_db
def test_a_customer_outside_the_eu_without_a_pack_is_told_why(db):
    swiss = CustomerFactory(name="Helvetia AG", country="CH")
    helvetia_owner = MembershipFactory(customer=swiss, role=Role.OWNER).user
    body = client_for(helvetia_owner).get(reverse("m365_list")).content.decode()
    assert "only available to customers established in the European Union" in body


@pytest.mark.django_db
def test_a_licence_is_added_with_htmx_and_the_card_and_grand_total_are_swapped(
    owner_client, owner, pack, reauthenticated
):
    response = owner_client.post(reverse("m365_licences_change", args=[pack.pk]), {"delta": "1"}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith(f'<article id="pack-{pack.pk}"')
    assert '<strong class="licence-count">4</strong>' in body and "50.00 EUR excl. VAT" in body
    assert 'id="grand-total" class="balance" hx-swap-oob="true"' in body and "50.00 EUR per month" in body
    assert LicenceChange.objects.get().by == owner


@pytest.mark.django_db
def test_licences_change_without_javascript_too(owner_client, pack, reauthenticated):
    response = owner_client.post(reverse("m365_licences_change", args=[pack.pk]), {"delta": "-1"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("m365_list") + f"#pack-{pack.pk}"
    assert "1 licence cancelled in Acme Office." in response.content.decode()
    assert Service.objects.get(pk=pack.pk).quantity == 2


@pytest.mark.django_db
def test_the_number_of_licences_can_be_set_directly(owner_client, pack, reauthenticated):
    owner_client.post(reverse("m365_licences_change", args=[pack.pk]), {"quantity": "10"})
    assert LicenceChange.objects.get().delta == 7 and Service.objects.get(pk=pack.pk).quantity == 10
    response = owner_client.post(reverse("m365_licences_change", args=[pack.pk]), {"quantity": "ten"}, follow=True)
    assert "Enter the number of licences" in response.content.decode()


@pytest.mark.django_db
def test_a_superscript_number_of_licences_is_refused_with_the_message_not_an_error(owner_client, pack, reauthenticated):
    # Found by tests/security/test_fuzz_forms.py: "²".isdigit() is true, int("²") raises.
    response = owner_client.post(reverse("m365_licences_change", args=[pack.pk]), {"quantity": "²"}, follow=True)
    assert response.status_code == 200 and "Enter the number of licences" in response.content.decode()
    assert Service.objects.get(pk=pack.pk).quantity == 3


@pytest.mark.django_db
@pytest.mark.parametrize("data", [{"delta": "1"}, {"quantity": "6"}])
def test_art_6_1_2_going_over_the_limit_is_refused_with_a_clear_message_in_the_card(
    owner_client, customer, data, reauthenticated
):
    pack = make_pack(customer, plan=m365_plan(specifications={"max_users": 5}), quantity=5)
    response = owner_client.post(reverse("m365_licences_change", args=[pack.pk]), data, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in body
    assert "This pack allows at most 5 users (art. 6.1.2). You can add 0 more licences." in body
    assert Service.objects.get(pk=pack.pk).quantity == 5 and not LicenceChange.objects.exists()


@pytest.mark.django_db
def test_the_add_button_is_disabled_at_the_limit(owner_client, customer):
    make_pack(customer, plan=m365_plan(specifications={"max_users": 3}), quantity=3)
    body = owner_client.get(reverse("m365_list")).content.decode()
    assert "This pack has reached its limit of 3 users" in body
    assert "disabled>Add a licence" in body


@pytest.mark.django_db
def test_art_6_1_2_the_server_refuses_to_add_licences_outside_the_eu(reauthenticated):
    swiss = CustomerFactory(name="Helvetia AG", country="CH")
    helvetia_owner = MembershipFactory(customer=swiss, role=Role.OWNER).user
    pack = make_pack(swiss, quantity=2)
    response = client_for(helvetia_owner).post(
        reverse("m365_licences_change", args=[pack.pk]), {"delta": "1"}, follow=True
    )
    assert "only available to customers established in the European Union" in response.content.decode()
    assert Service.objects.get(pk=pack.pk).quantity == 2


@pytest.mark.django_db
def test_cancelling_the_last_licence_from_the_page_ends_the_contract(owner_client, customer, reauthenticated):
    pack = make_pack(customer, quantity=1)
    body = owner_client.get(reverse("m365_list")).content.decode()
    assert "Cancel the last licence…" in body and reverse("m365_end", args=[pack.pk]) in body
    response = owner_client.post(reverse("m365_licences_change", args=[pack.pk]), {"delta": "-1"}, headers=HTMX)
    assert response["HX-Redirect"] == reverse("m365_list")
    assert Service.objects.get(pk=pack.pk).status == Service.Status.ENDED
    body = owner_client.get(reverse("m365_list")).content.decode()
    assert "its contract has ended (art. 6.3.3)" in body and "Ended packs" in body


@pytest.mark.django_db
def test_only_roles_that_may_order_see_and_use_the_buttons(technical_client, billing_member, pack, reauthenticated):
    body = technical_client.get(reverse("m365_list")).content.decode()
    assert "Acme Office" in body and "Add a licence" not in body and "End this contract" not in body
    for name in ("m365_licences_change", "m365_end"):
        assert technical_client.post(reverse(name, args=[pack.pk]), {"delta": "1"}).status_code == 403
    assert technical_client.get(reverse("m365_end", args=[pack.pk])).status_code == 403
    assert Service.objects.get(pk=pack.pk).quantity == 3

    billing_client = client_for(billing_member)
    assert "Add a licence" in billing_client.get(reverse("m365_list")).content.decode()
    billing_client.post(reverse("m365_licences_change", args=[pack.pk]), {"delta": "1"})
    assert Service.objects.get(pk=pack.pk).quantity == 4


@pytest.mark.django_db
def test_changing_licences_is_ordering_so_it_asks_for_the_password_again(owner_client, pack):
    response = owner_client.post(reverse("m365_licences_change", args=[pack.pk]), {"delta": "1"})
    assert response.status_code == 302 and response.url.startswith(reverse("account_reauthenticate"))
    htmx = owner_client.post(reverse("m365_licences_change", args=[pack.pk]), {"delta": "1"}, headers=HTMX)
    assert htmx["HX-Redirect"].startswith(reverse("account_reauthenticate"))
    assert not LicenceChange.objects.exists()


@pytest.mark.django_db
def test_art_6_3_2_ending_from_the_portal_is_confirmed_and_needs_reauthentication(owner_client, pack, settings):
    url = reverse("m365_end", args=[pack.pk])
    page = owner_client.get(url)
    assert page.status_code == 200 and "End the contract now" in page.content.decode()
    assert "3 licences are cancelled at once" in page.content.decode()
    response = owner_client.post(url)
    assert response.status_code == 302 and response.url.startswith(reverse("account_reauthenticate"))
    assert Service.objects.get(pk=pack.pk).status == Service.Status.ACTIVE

    settings.ACCOUNT_REAUTHENTICATION_REQUIRED = False
    response = owner_client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("m365_list")
    assert "The contract of Acme Office has ended" in response.content.decode()
    assert Service.objects.get(pk=pack.pk).status == Service.Status.ENDED
    assert owner_client.get(url).status_code == 302  # nothing left to confirm


@pytest.mark.django_db
def test_another_kind_of_service_is_not_found_on_the_licences_urls(owner_client, customer, reauthenticated):
    hosting = ServiceFactory(customer=customer, plan=PlanFactory(kind=Kind.SHARED_HOSTING))
    assert owner_client.post(reverse("m365_licences_change", args=[hosting.pk]), {"delta": "1"}).status_code == 404
    assert owner_client.get(reverse("m365_end", args=[hosting.pk])).status_code == 404


@pytest.mark.django_db
def test_the_licences_page_query_count_does_not_grow_with_packs(
    owner_client, customer, owner, staff_user, django_assert_max_num_queries
):
    plans = [m365_plan(name=f"Pack {n}") for n in range(3)]

    def add_packs(count: int, start: int) -> None:
        for n in range(start, start + count):
            pack = make_pack(customer, plan=plans[n % 3], name=f"Pack {n:03d}")
            m365.change_licences(service=pack, delta=1, by=owner)
            m365.change_licences(service=pack, delta=-1, by=owner)

    add_packs(2, 0)
    m365.record_price_change(plan=plans[0], price=Decimal("20"), effective_on=datetime.date(2027, 5, 1), by=staff_user)
    owner_client.get(reverse("m365_list"))  # the first request of a session records it
    with django_assert_max_num_queries(20) as small:
        owner_client.get(reverse("m365_list"))
    add_packs(30, 2)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = owner_client.get(reverse("m365_list"))
    assert "Pack 031" in response.content.decode()


# The admin


@pytest.fixture
def admin_client(staff_user, settings):
    settings.PORTAL_ADMIN_REQUIRE_MFA = False
    return client_for(staff_user)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name",
    [
        "admin:services_licencechange_changelist",
        "admin:services_pricechange_changelist",
        "admin:services_pricechange_add",
        "admin:services_orderintegration_changelist",
        "admin:services_orderintegration_add",
    ],
)
def test_the_microsoft_365_admin_pages_open(admin_client, url_name):
    assert admin_client.get(reverse(url_name)).status_code == 200


@pytest.mark.django_db
def test_a_recorded_price_change_is_read_only_and_an_announced_one_cannot_be_deleted(admin_client, staff_user, plan):
    change = m365.record_price_change(
        plan=plan, price=Decimal("13.80"), effective_on=datetime.date(2027, 3, 1), by=staff_user
    )
    page = admin_client.get(reverse("admin:services_pricechange_change", args=[change.pk])).content.decode()
    assert 'name="price"' not in page
    delete = reverse("admin:services_pricechange_delete", args=[change.pk])
    assert admin_client.get(delete).status_code == 200
    m365.announce_price_change(change=change, now=NOW)
    assert admin_client.get(delete).status_code == 403


@pytest.mark.django_db
def test_staff_see_pending_changes_first_and_mark_them_done_at_microsoft(admin_client, staff_user, owner, pack):
    first = m365.change_licences(service=pack, delta=1, by=owner, now=NOW)
    m365.mark_done(change=first, by=staff_user, now=NOW)
    second = m365.change_licences(service=pack, delta=1, by=owner, now=NOW + datetime.timedelta(minutes=5))
    url = reverse("admin:services_licencechange_changelist")
    body = admin_client.get(url).content.decode()
    assert body.index(f"/{second.pk}/change/") < body.index(f"/{first.pk}/change/")  # pending first
    response = admin_client.post(
        url, {"action": "done_at_microsoft", "_selected_action": [first.pk, second.pk]}, follow=True
    )
    assert "1 change marked done at Microsoft." in response.content.decode()
    second.refresh_from_db()
    assert (second.fulfilment, second.fulfilled_by) == ("done", staff_user)
    assert admin_client.get(reverse("admin:services_licencechange_add")).status_code == 403


@pytest.mark.django_db
def test_staff_record_a_price_change_in_the_admin_and_announce_it_once(
    admin_client, staff_user, customer, owner, plan, django_capture_on_commit_callbacks, mailoutbox
):
    make_pack(customer, plan=plan)
    add = reverse("admin:services_pricechange_add")
    refused = admin_client.post(add, {"plan": plan.pk, "price": "13.80", "effective_on": "2027-01-10"})
    assert refused.status_code == 200 and "later date" in refused.content.decode()
    admin_client.post(add, {"plan": plan.pk, "price": "13.80", "effective_on": "2027-03-01"})
    change = PriceChange.objects.get()
    assert (change.price, change.created_by) == (Decimal("13.80"), staff_user)
    assert AuditEvent.objects.filter(action="m365.price_change_recorded", actor=staff_user).exists()

    url = reverse("admin:services_pricechange_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"action": "announce", "_selected_action": [change.pk]}, follow=True)
    assert "1 customer told." in response.content.decode() and len(mailoutbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"action": "announce", "_selected_action": [change.pk]}, follow=True)
    assert "already announced: nothing was sent again" in response.content.decode() and len(mailoutbox) == 1


@pytest.mark.django_db
def test_staff_record_integration_services_on_an_order_in_the_admin(admin_client, customer, owner, plan):
    order = orders.place_order(customer=customer, by=owner, lines=[(plan, "Acme Office", 10, None)])
    add = reverse("admin:services_orderintegration_add")
    refused = admin_client.post(add, {"order": order.pk, "scope": "Setup", "price": "-5"})
    assert refused.status_code == 200 and not OrderIntegration.objects.exists()
    admin_client.post(add, {"order": order.pk, "scope": "Set up Teams for 10 users", "price": "300.00"})
    assert OrderIntegration.objects.get().scope == "Set up Teams for 10 users"
    assert "Set up Teams" in admin_client.get(reverse("admin:services_orderintegration_changelist")).content.decode()


@pytest.mark.django_db
def test_the_history_of_a_pack_names_who_changed_what(owner_client, owner, pack):
    m365.change_licences(service=pack, delta=2, by=owner)
    body = owner_client.get(reverse("m365_list")).content.decode()
    assert "2 licences added" in body and owner.get_full_name() in body
