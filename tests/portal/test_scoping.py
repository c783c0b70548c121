"""Every customer URL the project registers is scoped: another customer's user gets 404 or 403.

A new URL pattern with a parameter must get a case in OBJECT_URLS, and every page without one
is visited too: a page that forgets the scoping helper fails here.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import Invitation, Membership
from accounts.roles import Role
from services import certificates as certificate_rules
from services import dns, orders
from services import domains as domain_rules
from services import hosting as hosting_rules
from support import access, charges, tickets
from support.models import InterventionType, Quote, StaffAccessGrant, Ticket
from tests.conftest import client_for
from tests.factories import MembershipFactory, PlanFactory, ServiceFactory, issue_invoice

OUR_APPS = ("accounts.", "services.", "support.", "billing.", "portal.")
# Reachable without a customer: the landing redirect, the invitation link (its token is the
# credential), the customer switch (checks membership itself) and the no-customer page.
PUBLIC = {"home", "invitation_accept", "switch_customer", "no_customer"}


def _walk(patterns, namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and namespace is None:
            # Namespaced includes are third-party or the staff admin (tested in test_admin.py).
            yield entry


def our_url_patterns():
    for pattern in _walk(get_resolver().url_patterns):
        module = getattr(pattern.callback, "__module__", "")
        if module.startswith(OUR_APPS) and pattern.name and pattern.name not in PUBLIC:
            yield pattern


@pytest.fixture
def acme_objects(customer, owner, staff_user):
    hosting = ServiceFactory(customer=customer, name="secret-acme-hosting.example", plan=PlanFactory())
    member = MembershipFactory(customer=customer, role=Role.TECHNICAL, user__email="secret-tech@acme.example")
    invitation = Invitation.objects.create(customer=customer, email="secret-invitee@acme.example", invited_by=owner)
    reason = InterventionType.objects.get(code="hosting-site-down")
    upload = SimpleUploadedFile("secret-acme-file.txt", b"secret", content_type="text/plain")
    ticket = tickets.open_ticket(
        customer=customer, opened_by=owner, reason=reason, priority="standard", service=hosting,
        subject="secret-acme-ticket", description="secret", files=[upload],
    )  # fmt: skip
    grant = access.grant(customer=customer, by=owner, duration="7d")
    invoice = issue_invoice(customer)
    quote = charges.propose_quote(ticket=ticket, credits=5, description="secret work", by=staff_user)
    m365_pack = ServiceFactory(
        customer=customer, name="secret-acme-m365-pack", quantity=3, current_period_end=None,
        plan=PlanFactory(kind="m365_pack", period_months=0, specifications={"max_users": 300}),
    )  # fmt: skip
    order = orders.place_order(
        customer=customer, by=owner, lines=[(PlanFactory(), "secret-acme-order.example", 1, None)]
    )
    managed_cms = ServiceFactory(
        customer=customer, parent=hosting, plan=PlanFactory(kind="managed_cms", requires_kind="shared_hosting")
    )
    cms_update = hosting_rules.record_cms_update(service=managed_cms, description="secret update", by=staff_user)
    domain_request = domain_rules.submit_request(
        customer=customer, by=owner, kind="register", domain="secret-acme-domain.be", plan=PlanFactory(kind="domain")
    )
    domain_rules.set_status(request=domain_request, status="information_requested", by=staff_user, message="secret")
    proof = SimpleUploadedFile("secret-acme-proof.pdf", b"%PDF-1.4 secret", content_type="application/pdf")
    domain_answer = domain_rules.answer(request=domain_request, by=owner, body="secret answer", document=proof)
    cert_request = certificate_rules.request_certificate(
        customer=customer, by=owner, names=["secret-acme-cert.example"], key_type="ec256"
    )
    certificate_rules.set_status(request=cert_request, status="information_requested", by=staff_user, message="s")
    cert_proof = SimpleUploadedFile("secret-acme-cert-proof.pdf", b"%PDF-1.4 secret", content_type="application/pdf")
    certificate_rules.answer(request=cert_request, by=owner, body="secret", files=[cert_proof])
    cert_request.refresh_from_db()
    dns_domain = ServiceFactory(customer=customer, name="secret-acme-zone.be", plan=PlanFactory(kind="domain"))
    dns_zone = dns.create_zone(service=dns_domain, name="secret-acme-zone.be")
    dns_record = dns.add_record(
        zone=dns_zone, name="secret-acme-record", type="A", ttl=3600, value="192.0.2.1",
        expected_serial=dns_zone.serial, by=owner,
    )  # fmt: skip
    return {
        "service": hosting, "membership": member, "invitation": invitation, "ticket": ticket,
        "attachment": ticket.attachments.get(), "grant": grant, "invoice": invoice, "quote": quote,
        "m365_pack": m365_pack,
        "order": order,
        "cms_update": cms_update,
        "domain_request": domain_request,
        "domain_answer": domain_answer,
        "cert_request": cert_request,
        "cert_document": cert_request.messages.exclude(document="").get(),
        "dns_domain": dns_domain,
        "dns_record": dns_record,
    }  # fmt: skip


# url name -> kwargs naming an object of Acme (the first customer).
OBJECT_URLS = {
    "service_detail": lambda o: {"pk": o["service"].pk},
    "m365_licences_change": lambda o: {"pk": o["m365_pack"].pk},
    "m365_end": lambda o: {"pk": o["m365_pack"].pk},
    "hosting_restore": lambda o: {"pk": o["service"].pk},
    "cms_update_confirm": lambda o: {"pk": o["cms_update"].pk},
    "cms_update_problem": lambda o: {"pk": o["cms_update"].pk},
    "order_detail": lambda o: {"pk": o["order"].pk},
    "order_cancel": lambda o: {"pk": o["order"].pk},
    "domain_request_detail": lambda o: {"pk": o["domain_request"].pk},
    "domain_request_document": lambda o: {"pk": o["domain_request"].pk, "message_pk": o["domain_answer"].pk},
    "certificate_detail": lambda o: {"pk": o["cert_request"].pk},
    "certificate_key_download": lambda o: {"pk": o["cert_request"].pk},
    "certificate_upload": lambda o: {"pk": o["cert_request"].pk},
    "certificate_answer": lambda o: {"pk": o["cert_request"].pk},
    "certificate_withdraw": lambda o: {"pk": o["cert_request"].pk},
    "certificate_integration": lambda o: {"pk": o["cert_request"].pk},
    "certificate_document": lambda o: {"pk": o["cert_request"].pk, "message_pk": o["cert_document"].pk},
    "team_invitation_revoke": lambda o: {"pk": o["invitation"].pk},
    "team_change_role": lambda o: {"pk": o["membership"].pk},
    "team_remove_member": lambda o: {"pk": o["membership"].pk},
    "ticket_detail": lambda o: {"number": o["ticket"].number},
    "ticket_remark": lambda o: {"number": o["ticket"].number},
    "ticket_close": lambda o: {"number": o["ticket"].number},
    "ticket_reopen": lambda o: {"number": o["ticket"].number},
    "ticket_access": lambda o: {"number": o["ticket"].number},
    "ticket_attachment": lambda o: {"number": o["ticket"].number, "pk": o["attachment"].pk},
    "staff_access_revoke": lambda o: {"pk": o["grant"].pk},
    "invoice_detail": lambda o: {"number": o["invoice"].number},
    "invoice_pdf": lambda o: {"number": o["invoice"].number},
    "quote_accept": lambda o: {"number": o["ticket"].number, "pk": o["quote"].pk},
    "quote_decline": lambda o: {"number": o["ticket"].number, "pk": o["quote"].pk},
    "dns_zone": lambda o: {"pk": o["dns_domain"].pk},
    "dns_record_add": lambda o: {"pk": o["dns_domain"].pk},
    "dns_record_edit": lambda o: {"pk": o["dns_domain"].pk, "record_pk": o["dns_record"].pk},
    "dns_record_delete": lambda o: {"pk": o["dns_domain"].pk, "record_pk": o["dns_record"].pk},
    "dns_zone_export": lambda o: {"pk": o["dns_domain"].pk},
    "dns_zone_history": lambda o: {"pk": o["dns_domain"].pk},
}
SECRETS = [
    "secret-acme-ticket",
    "secret-acme-file.txt",
    "secret-acme-hosting.example",
    "secret-acme-m365-pack",
    "secret-acme-domain.be",
    "secret-acme-cert.example",
    "secret-acme-zone.be",
    "secret-tech@acme.example",
    "secret-invitee@acme.example",
    "Acme SRL",
]


def test_every_customer_url_with_a_parameter_has_a_scoping_case():
    with_params = {p.name for p in our_url_patterns() if p.pattern.converters or "<" in str(p.pattern)}
    missing = with_params - OBJECT_URLS.keys()
    assert not missing, f"URLs without a scoping case in OBJECT_URLS: {sorted(missing)}"


@pytest.mark.django_db
def test_another_customers_objects_answer_404_to_every_method(acme_objects, other_owner, reauthenticated):
    client = client_for(other_owner)
    for name, kwargs_for in OBJECT_URLS.items():
        url = reverse(name, kwargs=kwargs_for(acme_objects))
        for method in ("get", "post"):
            data = {"role": Role.OWNER, "body": "intruder", "action": "grant"}
            response = getattr(client, method)(url, data)
            assert response.status_code in (403, 404, 405), f"{method.upper()} {url} answered {response.status_code}"
            assert response.status_code != 405 or method == "get", f"POST {url} must be refused by scoping"
    # Nothing changed behind the refusals.
    membership = Membership.objects.get(pk=acme_objects["membership"].pk)
    assert membership.role == Role.TECHNICAL
    assert Invitation.objects.get(pk=acme_objects["invitation"].pk).revoked_at is None
    ticket = Ticket.objects.get(pk=acme_objects["ticket"].pk)
    assert ticket.status == "new" and not ticket.remarks.exists()
    assert StaffAccessGrant.objects.get(pk=acme_objects["grant"].pk).revoked_at is None
    assert Quote.objects.get(pk=acme_objects["quote"].pk).status == Quote.Status.PROPOSED
    assert acme_objects["dns_record"].zone.records.values_list("value", flat=True).get() == "192.0.2.1"
    acme_objects["m365_pack"].refresh_from_db()
    assert (acme_objects["m365_pack"].quantity, acme_objects["m365_pack"].status) == (3, "active")
    acme_objects["cert_request"].refresh_from_db()
    assert acme_objects["cert_request"].status == "requested" and acme_objects["cert_request"].key_downloaded_at is None


@pytest.mark.django_db
def test_pages_without_parameters_show_nothing_of_another_customer(acme_objects, other_owner):
    client = client_for(other_owner)
    names = [p.name for p in our_url_patterns() if not p.pattern.converters and "<" not in str(p.pattern)]
    assert "service_list" in names and "team" in names  # the walk really sees our pages
    for name in names:
        response = client.get(reverse(name))
        body = response.content.decode()
        for secret in SECRETS:
            assert secret not in body, f"{reverse(name)} shows {secret!r} to another customer"


@pytest.mark.django_db
def test_the_owner_does_see_their_own_objects(acme_objects, owner_client):
    assert owner_client.get(reverse("service_detail", args=[acme_objects["service"].pk])).status_code == 200
    assert "secret-tech@acme.example" in owner_client.get(reverse("team")).content.decode()
