"""The dashboard answers at a glance: what needs attention, the credits, the services by kind (issue 9, item 4)."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from billing import ledger
from services import domains as domain_rules
from services import hosting as hosting_rules
from services.models import CertificateRequest, DomainRequest, Kind
from support import tickets
from support.models import InterventionType, Status
from tests.factories import PlanFactory, ServiceFactory, issue_invoice
from tests.services.test_notices import make_certificate

TODAY = datetime.date(2026, 11, 27)


def dashboard(client) -> str:
    return client.get(reverse("dashboard")).content.decode()


@pytest.fixture
def frozen():
    with time_machine.travel(datetime.datetime(2026, 11, 27, 10, 0, tzinfo=datetime.UTC), tick=False):
        yield


def test_a_customer_with_nothing_pending_is_told_so(owner_client, frozen):
    page = dashboard(owner_client)
    assert "Nothing needs your attention." in page
    assert "0 credits left." in page


def test_everything_waiting_for_the_customer_is_listed_with_a_link(owner_client, owner, customer, staff_user, frozen):
    reason = InterventionType.objects.get(code="hosting-site-down")
    ticket = tickets.open_ticket(
        customer=customer, opened_by=owner, reason=reason, priority="standard", subject="Site down", description="d"
    )
    ticket.status = Status.WAITING_ON_CUSTOMER
    ticket.save(update_fields=["status"])
    invoice = issue_invoice(customer, today=TODAY - datetime.timedelta(days=40))  # due 30 days later: overdue
    ending = make_certificate(customer, expires=TODAY + datetime.timedelta(days=20), names=("shop.acme.example",))
    make_certificate(customer, expires=TODAY + datetime.timedelta(days=200), names=("later.acme.example",))
    request = domain_rules.submit_request(
        customer=customer, by=owner, kind="register", domain="acme-new.be", plan=PlanFactory(kind="domain")
    )
    DomainRequest.objects.filter(pk=request.pk).update(status=DomainRequest.Status.INFORMATION_REQUESTED)
    hosting = ServiceFactory(customer=customer, name="www.acme.example", plan=PlanFactory(kind=Kind.SHARED_HOSTING))
    cms = ServiceFactory(
        customer=customer, parent=hosting, name="cms.acme.example",
        plan=PlanFactory(kind="managed_cms", requires_kind="shared_hosting"),
    )  # fmt: skip
    hosting_rules.record_cms_update(service=cms, description="WordPress 6.9", by=staff_user)
    ledger.grant(customer, 12, reason="test")

    page = dashboard(owner_client)

    assert f"Ticket {ticket.number} waits for your reply" in page and ticket.get_absolute_url() in page
    assert f"Invoice {invoice.number} to pay" in page and "overdue" in page
    assert "The certificate for shop.acme.example ends on" in page
    assert ending.request.get_absolute_url() in page
    assert "later.acme.example" not in page  # ends in 200 days
    assert "The registry needs information about acme-new.be" in page
    assert "Your CMS on cms.acme.example was updated" in page
    assert "12 credits left." in page
    assert "Nothing needs your attention." not in page


def test_a_renewed_certificate_is_not_listed_as_ending(owner_client, customer, frozen):
    ending = make_certificate(customer, expires=TODAY + datetime.timedelta(days=10), names=("shop.acme.example",))
    CertificateRequest.objects.create(
        customer=customer, names=["shop.acme.example"], replaces=ending.request,
        key_source=CertificateRequest.KeySource.GENERATED, csr_pem="-----BEGIN CERTIFICATE REQUEST-----",
    )  # fmt: skip
    assert "The certificate for shop.acme.example" not in dashboard(owner_client)


def test_another_customers_items_never_show(owner_client, other_customer, other_owner, frozen):
    reason = InterventionType.objects.get(code="hosting-site-down")
    ticket = tickets.open_ticket(
        customer=other_customer, opened_by=other_owner, reason=reason, priority="standard", subject="x", description="d"
    )
    ticket.status = Status.WAITING_ON_CUSTOMER
    ticket.save(update_fields=["status"])
    issue_invoice(other_customer)
    make_certificate(other_customer, expires=TODAY + datetime.timedelta(days=5), names=("globex.example",))
    ledger.grant(other_customer, 50, reason="test")

    page = dashboard(owner_client)

    assert ticket.number not in page and "globex.example" not in page
    assert "Nothing needs your attention." in page and "0 credits left." in page


def test_a_requested_domain_is_named_in_unicode(owner_client, owner, customer, frozen):
    request = domain_rules.submit_request(
        customer=customer, by=owner, kind="register", domain="café.be", plan=PlanFactory(kind="domain")
    )
    DomainRequest.objects.filter(pk=request.pk).update(status=DomainRequest.Status.INFORMATION_REQUESTED)
    assert "The registry needs information about café.be" in dashboard(owner_client)
