"""The staff admin (issue 9, item 6): the customer overview, the links between a customer and its rows,
and autocomplete boxes where a select would list a growing table."""

import datetime
import html
import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect, ForeignKeyRawIdWidget
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import invitations
from accounts.admin import RELATED_MODELS, related_lists
from accounts.models import AuditEvent, Customer, Invitation, User
from accounts.roles import Role
from billing import payments
from billing.models import Invoice, LedgerEntry
from portal import audit, load_data
from portal.admin_site import CustomerFilter
from portal.scoping import customer_path
from services.models import CertificateRequest, DnsZone, DomainRequest, Order, Service
from support.models import Ticket
from tests.conftest import client_for
from tests.factories import MembershipFactory, PlanFactory, ServiceFactory, issue_invoice
from tests.portal.test_query_budget import BUDGET, _objects

# Foreign keys to these tables grow with the customers: a plain select would list them all.
GROWING = {Customer, User, Service, Ticket, Invoice, Order, DnsZone, CertificateRequest, DomainRequest}


@pytest.fixture
def staff(staff_user, settings):
    settings.PORTAL_ADMIN_REQUIRE_MFA = False
    settings.ACCOUNT_REAUTHENTICATION_REQUIRED = False
    return client_for(staff_user)


@pytest.fixture
def acme(customer, owner, staff_user):
    """One object of each kind for Acme (a hosting, a ticket, an invoice, requests, credits…)."""
    return _objects(customer, owner, staff_user, "acme")


@pytest.fixture
def globex(other_customer, other_owner, staff_user):
    return _objects(other_customer, other_owner, staff_user, "globex")


def overview_url(customer) -> str:
    return reverse("admin:accounts_customer_overview", args=[customer.pk])


# The overview


@pytest.mark.django_db
def test_the_overview_shows_each_kind_of_item_of_the_customer_and_nothing_of_another(staff, acme, globex):
    body = staff.get(overview_url(acme["customer"])).content.decode()
    for tag, shown in (("acme", True), ("globex", False)):
        objects = acme if tag == "acme" else globex
        expected = [
            objects["customer"].memberships.get().user.email,  # members and roles
            f"{tag}-hosting.example",  # an active service and its period end
            objects["ticket"].number,  # an open ticket with its SLA state
            objects["invoice"].number,  # an unpaid invoice
            f"{tag}-domain.be",  # a pending domain request
            f"{tag}-cert.example",  # a pending certificate request
            reverse("admin:support_ticket_change", args=[objects["ticket"].pk]),
            reverse("admin:billing_invoice_change", args=[objects["invoice"].pk]),
            reverse("admin:services_service_change", args=[objects["service"].pk]),
            reverse("admin:services_domainrequest_change", args=[objects["domain_request"].pk]),
            reverse("admin:services_certificaterequest_change", args=[objects["cert_request"].pk]),
        ]
        for text in expected:
            assert (text in body) is shown, f"{text} {'missing from' if shown else 'leaks into'} Acme's overview"
    assert "Owner" in body  # the member's role
    assert "Shared web hosting" in body  # services by kind
    assert "Credit balance: 10 credits" in body and "budget" in body  # the balance and the last ledger entry
    latest = AuditEvent.objects.filter(customer=acme["customer"]).first()
    assert audit.describe(latest.action) in body  # the recent audit events, as the activity page words them
    assert "1 open ticket" in body and "1 unpaid invoice" in body


@pytest.mark.django_db
def test_every_link_of_the_overview_opens_a_page_that_accepts_its_filters(staff, acme):
    body = staff.get(overview_url(acme["customer"])).content.decode()
    links = {html.unescape(href) for href in re.findall(r'href="(/admin/[^"]+)"', body)}
    assert len([link for link in links if "customer__id__exact" in link]) >= len(RELATED_MODELS) + 3
    for link in sorted(links):
        response = staff.get(link)
        assert response.status_code == 200, link  # a filter the list refuses redirects to "?e=1"


@pytest.mark.django_db
def test_the_overview_totals_what_the_unpaid_invoices_still_lack_after_a_partial_payment(staff, customer):
    first, second = issue_invoice(customer), issue_invoice(customer)
    payments.record_payment(invoice=first, amount=Decimal("20.00"), received_on=datetime.date(2026, 3, 2))
    due = first.total + second.total - Decimal("20.00")
    body = staff.get(overview_url(customer)).content.decode()
    assert f"2 unpaid invoices: {due:.2f} € due" in body


@pytest.mark.django_db
def test_the_overview_marks_a_breached_response_deadline(staff, acme):
    ticket = acme["ticket"]
    Ticket.objects.filter(pk=ticket.pk).update(response_deadline=timezone.now() - datetime.timedelta(days=10))
    body = staff.get(overview_url(acme["customer"])).content.decode()
    assert 'class="sla-breached"' in body and "Breached" in body


@pytest.mark.django_db
def test_the_overview_lists_at_most_ten_of_each_and_links_to_the_whole_list(staff, customer):
    plan = PlanFactory()
    ServiceFactory.create_batch(12, customer=customer, plan=plan)
    for n in range(12):
        MembershipFactory(customer=customer, role=Role.TECHNICAL, user__email=f"tech{n:02d}@acme.example")
    body = staff.get(overview_url(customer)).content.decode()
    assert body.count(">tech") == 10
    assert "All 12 members" in body
    assert len(re.findall(r'href="/admin/services/service/\d+/change/"', body)) == 10


@pytest.mark.django_db
def test_only_staff_see_the_overview(client, owner, customer, staff_user, settings):
    url = overview_url(customer)
    for visitor in (client, client_for(owner)):
        response = visitor.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    settings.PORTAL_ADMIN_REQUIRE_MFA = True  # staff without two-factor authentication do not get in either
    assert client_for(staff_user).get(url).status_code == 302


@pytest.mark.django_db
def test_an_unknown_customer_has_no_overview(staff):
    assert staff.get(reverse("admin:accounts_customer_overview", args=[999999])).status_code == 404


@pytest.mark.django_db
def test_the_overview_costs_the_same_queries_for_a_small_and_a_big_customer(staff, acme, globex):
    """Every list is bounded and read in one query; counts and sums come with the customer."""
    load_data.fill_customer(globex["customer"], shape=load_data.Shape(members=12, hostings=12, tickets=15), seed=3)
    counts = []
    for objects in (acme, globex):
        url = overview_url(objects["customer"])
        staff.get(url)  # warm the caches (content types, translations), as a running server has
        with CaptureQueriesContext(connection) as queries:
            assert staff.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= BUDGET


# Links between a customer and its rows


@pytest.mark.django_db
def test_the_customer_list_and_page_link_to_the_overview_and_to_every_list_of_its_rows(staff, customer):
    assert overview_url(customer) in staff.get(reverse("admin:accounts_customer_changelist")).content.decode()
    page = staff.get(reverse("admin:accounts_customer_change", args=[customer.pk])).content.decode()
    assert page.count(overview_url(customer)) >= 2  # the button above the form and the "related" field
    for _label, url in related_lists(customer.pk):
        assert url.replace("&", "&amp;") in page


@pytest.mark.django_db
def test_each_list_linked_from_the_customer_shows_that_customers_rows_only(staff, acme, globex):
    mine, theirs = acme["customer"], globex["customer"]
    for label, url in related_lists(mine.pk):
        response = staff.get(url)
        assert response.status_code == 200, label
        shown = {customer_of(row) for row in response.context["cl"].result_list}
        assert shown <= {mine.pk}, f"{label}: rows of another customer"
        assert mine.name in response.content.decode()  # the sidebar names the filter's customer
    assert theirs.pk != mine.pk


def customer_of(row) -> int:
    value = row
    for name in customer_path(type(row)).split("__"):
        value = getattr(value, name)
    return value.pk


@pytest.mark.django_db
def test_ticket_service_invoice_and_ledger_rows_link_to_their_customers_page_and_overview(staff, acme):
    customer = acme["customer"]
    change = reverse("admin:accounts_customer_change", args=[customer.pk])
    pages = [
        reverse("admin:support_ticket_changelist"),
        reverse("admin:support_ticket_change", args=[acme["ticket"].pk]),
        reverse("admin:services_service_changelist"),
        reverse("admin:services_service_change", args=[acme["service"].pk]),
        reverse("admin:billing_invoice_changelist"),
        reverse("admin:billing_invoice_change", args=[acme["invoice"].pk]),
        reverse("admin:billing_ledgerentry_changelist"),
        reverse("admin:billing_ledgerentry_change", args=[LedgerEntry.objects.get(reason="budget").pk]),
        reverse("admin:services_domainrequest_change", args=[acme["domain_request"].pk]),
        reverse("admin:services_certificaterequest_change", args=[acme["cert_request"].pk]),
    ]
    for url in pages:
        body = staff.get(url).content.decode()
        assert change in body and overview_url(customer) in body, url


@pytest.mark.django_db
def test_a_filter_on_an_unknown_or_malformed_customer_shows_nothing(staff, acme):
    url = reverse("admin:support_ticket_changelist")
    assert staff.get(url, {"customer__id__exact": "999999"}).context["cl"].result_count == 0
    assert staff.get(url, {"customer__id__exact": "abc"}).status_code in (200, 302)  # the admin's "?e=1" page


def _customer_path_of(model_admin) -> str | None:
    """The admin's path to the customer, if its model belongs to one."""
    path = getattr(model_admin, "customer_path", None) or customer_path(model_admin.model)
    model = model_admin.model
    try:
        for name in path.split("__"):
            model = model._meta.get_field(name).related_model
    except (FieldDoesNotExist, AttributeError):
        return None
    return path if model is Customer else None


@pytest.mark.django_db
def test_every_list_of_a_customers_rows_takes_the_customer_filter(staff, acme):
    missing = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if _customer_path_of(model_admin) and CustomerFilter not in model_admin.list_filter
    ]
    assert not missing, f"Add CustomerFilter to the list_filter of {missing}"
    assert set(RELATED_MODELS) <= {m for m, ma in admin.site._registry.items() if CustomerFilter in ma.list_filter}


# Autocomplete rather than selects of growing tables


def _forms(model_admin, request):
    """The forms an admin shows: its add and change forms, and those of its inlines."""
    forms = []
    obj = model_admin.model._default_manager.order_by("pk").first()
    for instance in (None, obj):
        if instance is None and not model_admin.has_add_permission(request):
            continue
        if instance is not None and not model_admin.has_change_permission(request, instance):
            continue
        forms.append(model_admin.get_form(request, instance, change=instance is not None))
        for inline in model_admin.get_inline_instances(request, instance):
            formset = inline.get_formset(request, instance)
            form = type(formset.form.__name__, (formset.form,), {})
            form.base_fields = {k: v for k, v in formset.form.base_fields.items() if k != formset.fk.name}
            forms.append(form)  # without the key to the page's object, which the formset sets itself
    return forms


@pytest.mark.django_db
def test_no_admin_form_lists_a_growing_table_in_a_plain_select(staff_user, acme):
    request = RequestFactory().get("/admin/")
    request.user = staff_user
    plain = []
    for model, model_admin in admin.site._registry.items():
        for form in _forms(model_admin, request):
            for name, field in form.base_fields.items():
                target = getattr(getattr(field, "queryset", None), "model", None)
                if target not in GROWING:
                    continue
                widget = getattr(field.widget, "widget", field.widget)  # inside the related-links wrapper
                if not isinstance(widget, AutocompleteSelect | ForeignKeyRawIdWidget):
                    plain.append(f"{model._meta.label}: {form.__name__}.{name}")
    # A form that narrows the choices to a few rows of one object (the DNS form's tickets of the zone) is fine.
    assert set(plain) <= {"services.DnsRecord: DnsRecordForm.ticket"}, plain


def _editable_as_a_select(model_admin, field_name: str, request) -> bool:
    """Whether an add or change form of the admin shows ``field_name`` as a plain select."""
    if field_name in model_admin.get_autocomplete_fields(request) or field_name in model_admin.raw_id_fields:
        return False
    obj = model_admin.model._default_manager.order_by("pk").first()
    forms = []
    if model_admin.has_add_permission(request):
        forms.append(model_admin.get_form(request, None, change=False))
    if obj is not None and model_admin.has_change_permission(request, obj):
        forms.append(model_admin.get_form(request, obj, change=True))  # read-only fields are left out of it
    return any(field_name in form.base_fields for form in forms)


@pytest.mark.django_db
def test_every_admin_with_a_foreign_key_to_a_customer_uses_autocomplete_raw_id_or_read_only(staff_user, acme):
    request = RequestFactory().get("/admin/")
    request.user = staff_user
    offending = [
        f"{model._meta.label}.{field.name}"
        for model, model_admin in admin.site._registry.items()
        for field in model._meta.get_fields()
        if field.concrete and field.is_relation and field.related_model is Customer
        and _editable_as_a_select(model_admin, field.name, request)
    ]  # fmt: skip
    assert not offending, f"Put these in autocomplete_fields (or raw_id_fields, or make them read-only): {offending}"


@pytest.mark.django_db
def test_the_autocomplete_suggests_only_the_services_the_form_accepts(staff, customer):
    hosting = ServiceFactory(customer=customer, name="shop.acme.example")
    ServiceFactory(customer=customer, name="shop.acme.be", plan=PlanFactory(kind="domain"))
    params = {"app_label": "services", "model_name": "backup", "field_name": "service", "term": "shop"}
    response = staff.get(reverse("admin:autocomplete"), params)
    assert [row["id"] for row in response.json()["results"]] == [str(hosting.pk)]


# Invitations: read-only, revoked through accounts.invitations


@pytest.mark.django_db
def test_staff_revoke_a_pending_invitation_from_the_admin_and_it_is_audited(staff, customer, owner):
    invitation = invitations.invite(
        customer=customer, email="new@acme.example", role=Role.TECHNICAL, invited_by=owner,
        base_url="https://portal.example",
    )  # fmt: skip
    changelist = reverse("admin:accounts_invitation_changelist")
    response = staff.post(changelist, {"action": "revoke", "_selected_action": [invitation.pk]}, follow=True)
    assert "1 invitation revoked." in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert AuditEvent.objects.filter(action="invitation.revoked", customer=customer).exists()
    assert staff.get(reverse("admin:accounts_invitation_add")).status_code == 403
    assert Invitation.objects.count() == 1


# The timelines of domain and certificate requests share one inline


@pytest.mark.django_db
def test_both_request_pages_show_their_timeline_with_who_changed_what(staff, acme):
    for url, request in (
        ("admin:services_domainrequest_change", acme["domain_request"]),
        ("admin:services_certificaterequest_change", acme["cert_request"]),
    ):
        body = staff.get(reverse(url, args=[request.pk])).content.decode()
        assert "Timeline" in body and "owner@acme.example" in body, url
    assert DomainRequest.objects.count() == CertificateRequest.objects.count() == 1
