"""A service's history and status changes; add-ons end with their shared hosting (art. 3.2.3, 3.3.2)."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from allauth.mfa.models import Authenticator
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from accounts.models import AuditEvent
from services import lifecycle
from services.models import Kind, Service, ServiceEvent
from tests.conftest import client_for
from tests.factories import PlanFactory, ServiceFactory
from tests.support.test_admin import _FormFields

NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Europe/Brussels"))


@pytest.fixture
def hosting(customer):
    return ServiceFactory(customer=customer, name="www.acme.example", plan=PlanFactory(kind=Kind.SHARED_HOSTING))


def addon(hosting, kind: str, name: str, **fields) -> Service:
    plan = PlanFactory(kind=kind, requires_kind=Kind.SHARED_HOSTING, specifications={})
    return ServiceFactory(customer=hosting.customer, plan=plan, name=name, parent=hosting, **fields)


@pytest.fixture
def staff_client(staff_user):
    Authenticator.objects.create(user=staff_user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    return client_for(staff_user)


def history(service: Service) -> list[tuple[str, str, str]]:
    return list(service.events.values_list("field", "old_value", "new_value"))


@pytest.mark.django_db
def test_a_status_change_is_kept_in_the_history_with_labels_who_and_when(hosting, staff_user):
    lifecycle.set_status(service=hosting, status=Service.Status.SUSPENDED, by=staff_user, now=NOW)
    hosting.refresh_from_db()
    assert hosting.status == Service.Status.SUSPENDED
    event = hosting.events.get()
    assert (event.field, event.old_value, event.new_value) == ("status", "Active", "Suspended")
    assert (event.actor, event.created_at) == (staff_user, NOW)


@pytest.mark.django_db
def test_a_status_change_is_audited_for_the_customer(hosting, staff_user, customer):
    lifecycle.set_status(service=hosting, status=Service.Status.ENDED, by=staff_user, now=NOW)
    event = AuditEvent.objects.get(action="service.status_changed")
    assert (event.customer, event.actor, event.object_id) == (customer, staff_user, str(hosting.pk))
    assert event.details == {"old": "Active", "new": "Ended"}


@pytest.mark.django_db
def test_setting_the_status_a_service_already_has_records_nothing(hosting, staff_user):
    lifecycle.set_status(service=hosting, status=Service.Status.ACTIVE, by=staff_user)
    assert not hosting.events.exists()
    assert not AuditEvent.objects.filter(action="service.status_changed").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Service.Status.ENDED, Service.Status.SUSPENDED, Service.Status.EXPIRED])
def test_art_3_2_3_and_3_3_2_the_addons_end_with_their_shared_hosting(hosting, staff_user, status):
    cms = addon(hosting, Kind.MANAGED_CMS, "Managed CMS for www")
    caching = addon(hosting, Kind.CACHING, "Caching for www")
    already_ended = addon(hosting, Kind.CMS_HOSTING, "Old CMS", status=Service.Status.ENDED)
    other_hosting = ServiceFactory(customer=hosting.customer, name="shop.acme.example")
    unrelated = addon(other_hosting, Kind.CACHING, "Caching for shop")

    lifecycle.set_status(service=hosting, status=status, by=staff_user, now=NOW)

    for service in (cms, caching):
        service.refresh_from_db()
        assert service.status == Service.Status.ENDED
        assert history(service) == [
            ("status", "Active", "Ended"),
            ("note", "", "Ended with its shared hosting www.acme.example (art. 3.2.3, 3.3.2)."),
        ]
    already_ended.refresh_from_db()
    unrelated.refresh_from_db()
    assert (already_ended.status, unrelated.status) == (Service.Status.ENDED, Service.Status.ACTIVE)
    assert not already_ended.events.exists() and not unrelated.events.exists()


@pytest.mark.django_db
def test_only_a_shared_hosting_takes_its_addons_along(customer, staff_user):
    """A domain has no add-ons; ending a service of another kind changes only that service."""
    domain = ServiceFactory(customer=customer, plan=PlanFactory(kind=Kind.DOMAIN), name="acme.be")
    lifecycle.set_status(service=domain, status=Service.Status.ENDED, by=staff_user)
    assert history(domain) == [("status", "Active", "Ended")]


@pytest.mark.django_db
def test_art_3_2_3_an_addon_cannot_be_active_without_an_active_hosting(hosting, staff_user):
    caching = addon(hosting, Kind.CACHING, "Caching for www")
    lifecycle.set_status(service=hosting, status=Service.Status.SUSPENDED, by=staff_user)
    with pytest.raises(ValidationError) as raised:
        lifecycle.set_status(service=caching, status=Service.Status.ACTIVE, by=staff_user)
    assert "only be active while its shared hosting is active" in str(raised.value)
    lifecycle.set_status(service=hosting, status=Service.Status.ACTIVE, by=staff_user)
    lifecycle.set_status(service=caching, status=Service.Status.ACTIVE, by=staff_user)
    caching.refresh_from_db()
    assert caching.status == Service.Status.ACTIVE


@pytest.mark.django_db
def test_an_unknown_status_is_refused(hosting, staff_user):
    with pytest.raises(ValidationError):
        lifecycle.set_status(service=hosting, status="sleeping", by=staff_user)
    assert not hosting.events.exists()


@pytest.mark.django_db
def test_creation_and_periods_are_kept_in_the_history(hosting, staff_user):
    lifecycle.created(hosting, staff_user, now=NOW)
    lifecycle.record_period(
        service=hosting, start=datetime.date(2026, 3, 2), end=datetime.date(2027, 3, 2), by=staff_user, now=NOW
    )
    lifecycle.record_period(service=hosting, start=datetime.date(2026, 3, 2), end=None, by=None, now=NOW)
    assert history(hosting) == [
        ("created", "", f"{hosting.plan.name} (Active)"),
        ("period", "", "2026-03-02 → 2027-03-02"),
        ("period", "", "2026-03-02 → indefinite"),
    ]
    with pytest.raises(ValidationError):
        lifecycle.record_period(
            service=hosting, start=datetime.date(2026, 3, 2), end=datetime.date(2026, 3, 1), by=staff_user
        )


# The admin


def change_form(client, service) -> dict:
    response = client.get(reverse("admin:services_service_change", args=[service.pk]))
    assert response.status_code == 200
    parser = _FormFields("service_form")
    parser.feed(response.content.decode())
    return {**parser.data, "_save": "Save"}


def save(client, service, **changes):
    data = {**change_form(client, service), **changes}
    return client.post(reverse("admin:services_service_change", args=[service.pk]), data)


@pytest.mark.django_db
def test_staff_changing_the_status_in_the_admin_goes_through_set_status(staff_client, staff_user, hosting):
    caching = addon(hosting, Kind.CACHING, "Caching for www")
    response = save(staff_client, hosting, status=Service.Status.ENDED, name="www2.acme.example")
    assert response.status_code == 302, response.context["adminform"].form.errors
    hosting.refresh_from_db()
    caching.refresh_from_db()
    assert (hosting.status, hosting.name, caching.status) == (Service.Status.ENDED, "www2.acme.example", "ended")
    assert ServiceEvent.objects.get(service=hosting, field="status").actor == staff_user
    assert caching.events.filter(field="status", new_value="Ended").exists()


@pytest.mark.django_db
def test_staff_cannot_reactivate_an_addon_whose_hosting_has_ended(staff_client, staff_user, hosting):
    caching = addon(hosting, Kind.CACHING, "Caching for www")
    lifecycle.set_status(service=hosting, status=Service.Status.ENDED, by=staff_user)
    response = save(staff_client, caching, status=Service.Status.ACTIVE)
    assert response.status_code == 200
    assert "only be active while its shared hosting is active" in response.content.decode()
    caching.refresh_from_db()
    assert caching.status == Service.Status.ENDED


@pytest.mark.django_db
def test_a_period_changed_in_the_admin_is_kept_in_the_history(staff_client, hosting):
    response = save(staff_client, hosting, current_period_end="2027-06-01")
    assert response.status_code == 302
    assert history(hosting) == [("period", "", "2026-06-01 → 2027-06-01")]


@pytest.mark.django_db
def test_the_service_page_in_the_admin_shows_the_history_read_only(staff_client, staff_user, hosting):
    lifecycle.set_status(service=hosting, status=Service.Status.SUSPENDED, by=staff_user)
    response = staff_client.get(reverse("admin:services_service_change", args=[hosting.pk]))
    body = response.content.decode()
    assert "Suspended" in body and escape(str(staff_user)) in body
    assert 'name="events-0-new_value"' not in body  # shown, not editable


@pytest.mark.django_db
def test_a_service_added_in_the_admin_records_its_creation(staff_client, customer):
    plan = PlanFactory(kind=Kind.SHARED_HOSTING, name="Hosting S")
    url = reverse("admin:services_service_add")
    response = staff_client.get(url)
    parser = _FormFields("service_form")
    parser.feed(response.content.decode())
    data = {
        **parser.data, "customer": customer.pk, "plan": plan.pk, "name": "new.acme.example", "status": "active",
        "started_on": "2026-03-02", "current_period_end": "2027-03-02", "_save": "Save",
    }  # fmt: skip
    assert staff_client.post(url, data).status_code == 302
    service = Service.objects.get(name="new.acme.example")
    assert history(service) == [("created", "", "Hosting S (Active)"), ("period", "", "2026-03-02 → 2027-03-02")]


@pytest.mark.django_db
def test_the_suspend_action_goes_through_set_status_for_each_service(staff_client, hosting):
    caching = addon(hosting, Kind.CACHING, "Caching for www")
    changelist = reverse("admin:services_service_changelist")
    response = staff_client.post(
        changelist, {"action": "suspend", "_selected_action": [hosting.pk], "index": "0"}, follow=True
    )
    assert "1 service changed." in response.content.decode()
    hosting.refresh_from_db()
    caching.refresh_from_db()
    assert (hosting.status, caching.status) == (Service.Status.SUSPENDED, Service.Status.ENDED)
