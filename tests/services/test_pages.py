import datetime

import pytest
from django.urls import reverse

from services.models import Kind, Service
from tests.factories import PlanFactory, ServiceFactory


@pytest.fixture
def hosting(customer):
    return ServiceFactory(customer=customer, name="www.acme.example", plan=PlanFactory(kind=Kind.SHARED_HOSTING))


@pytest.mark.django_db
def test_the_services_list_shows_the_customers_services(owner_client, hosting):
    body = owner_client.get(reverse("service_list")).content.decode()
    assert "www.acme.example" in body
    assert hosting.get_absolute_url() in body


@pytest.mark.django_db
def test_the_services_list_filters_by_kind(owner_client, customer, hosting):
    ServiceFactory(customer=customer, name="acme.be", plan=PlanFactory(kind=Kind.DOMAIN))
    body = owner_client.get(reverse("service_list"), {"kind": "domain"}).content.decode()
    assert "acme.be" in body and "www.acme.example" not in body
    assert "<h1>Domain name</h1>" in body


@pytest.mark.django_db
def test_an_htmx_filter_returns_only_the_table_fragment(owner_client, hosting):
    response = owner_client.get(reverse("service_list"), {"kind": "shared_hosting"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="service-table"')
    assert "<html" not in body and "www.acme.example" in body


@pytest.mark.django_db
def test_the_services_list_is_paginated_and_its_query_count_does_not_grow(
    owner_client, customer, django_assert_max_num_queries
):
    plan = PlanFactory()
    ServiceFactory.create_batch(3, customer=customer, plan=plan)
    owner_client.get(reverse("service_list"))  # the first request of a session records it
    with django_assert_max_num_queries(15) as small:
        owner_client.get(reverse("service_list"))
    ServiceFactory.create_batch(60, customer=customer, plan=plan)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = owner_client.get(reverse("service_list"))
    assert "Page 1 of 3" in response.content.decode()


@pytest.mark.django_db
def test_the_service_page_shows_the_period_specifications_and_addons(owner_client, customer, hosting):
    addon = ServiceFactory(
        customer=customer, name="Caching for www", plan=PlanFactory(kind=Kind.CACHING), parent=hosting
    )
    body = owner_client.get(hosting.get_absolute_url()).content.decode()
    assert "Disk space (GB)" in body
    assert addon.get_absolute_url() in body
    assert "Jan. 1, 2027" in body


@pytest.mark.django_db
def test_a_customer_may_only_look_at_services_not_change_them(owner_client, hosting):
    assert owner_client.post(hosting.get_absolute_url()).status_code == 200
    hosting.refresh_from_db()
    assert hosting.status == Service.Status.ACTIVE


@pytest.mark.django_db
def test_the_dashboard_counts_services_by_kind_and_lists_contracts_ending_soon(owner_client, customer, hosting):
    import time_machine

    ServiceFactory(customer=customer, name="old.example", status=Service.Status.ENDED)
    with time_machine.travel("2026-12-01 10:00 +01:00"):
        body = owner_client.get(reverse("dashboard")).content.decode()
    assert "Shared web hosting</a>: 1" in body
    assert "www.acme.example" in body  # ends 2027-01-01, within 60 days
    assert "old.example" not in body


@pytest.mark.django_db
def test_the_dashboard_query_count_does_not_grow_with_services(owner_client, customer, django_assert_max_num_queries):
    ServiceFactory.create_batch(2, customer=customer, current_period_end=datetime.date(2026, 12, 20))
    owner_client.get(reverse("dashboard"))  # the first request of a session records it
    with django_assert_max_num_queries(15) as small:
        owner_client.get(reverse("dashboard"))
    ServiceFactory.create_batch(30, customer=customer, current_period_end=datetime.date(2026, 12, 20))
    with django_assert_max_num_queries(len(small.captured_queries)):
        owner_client.get(reverse("dashboard"))


@pytest.mark.django_db
def test_an_addon_needs_a_shared_hosting_parent_of_the_same_customer(customer, other_customer):
    from django.core.exceptions import ValidationError

    caching = PlanFactory(kind=Kind.CACHING, requires_kind=Kind.SHARED_HOSTING)
    orphan = ServiceFactory.build(customer=customer, plan=caching, parent=None)
    with pytest.raises(ValidationError):
        orphan.full_clean()
    foreign = ServiceFactory(customer=other_customer)
    with pytest.raises(ValidationError):
        ServiceFactory.build(customer=customer, plan=caching, parent=foreign).full_clean()
