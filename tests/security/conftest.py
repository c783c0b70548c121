"""The security suite walks the same objects of Acme as tests/portal/test_scoping.py, plus (for the form
fuzzer) objects in the states where the other forms of the portal show."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from services import certificates as certificate_rules
from services import hosting as hosting_rules
from services.models import Kind
from support import charges, tickets
from support.models import InterventionType
from tests.factories import PlanFactory
from tests.portal.test_scoping import acme_objects  # noqa: F401 (a fixture, shared)
from tests.services.test_certificates import issue


@pytest.fixture
def acme_in_every_state(acme_objects, customer, owner, staff_user):  # noqa: F811 (the fixture imported above)
    """acme_objects plus what makes the state-dependent forms show: a backup to restore, a closed ticket
    to reopen, a certificate request the CA asks a question about, an issued certificate to integrate or
    renew, add-on and Microsoft 365 plans in the catalogue, a second quote. Returns the objects and the
    pages to start discovering forms from."""
    now = timezone.now()
    hosting = acme_objects["service"]
    backup, _created = hosting_rules.record_backup(
        service=hosting, reference="acme-nightly-01", taken_at=now - datetime.timedelta(days=1), size_mb=42
    )
    reason = InterventionType.objects.get(code="hosting-site-down")
    closed = tickets.open_ticket(
        customer=customer, opened_by=owner, reason=reason, priority="standard", service=hosting,
        subject="Closed ticket", description="Solved.",
    )  # fmt: skip
    tickets.close(ticket=closed, by=owner)
    second_quote = charges.propose_quote(ticket=acme_objects["ticket"], credits=500, description="Big", by=staff_user)

    asked = certificate_rules.request_certificate(customer=customer, by=owner, names=["asked.acme.example"],
                                                  key_type="ec256")  # fmt: skip
    certificate_rules.set_status(request=asked, status="information_requested", by=staff_user, message="Proof?")
    PlanFactory(kind=Kind.SSL_CERTIFICATE, name="Domain validated", period_months=12)
    issued = certificate_rules.request_certificate(customer=customer, by=owner, names=["www.acme.example"],
                                                   key_type="ec256")  # fmt: skip
    pem, chain = issue(issued, not_before=now - datetime.timedelta(days=1), not_after=now + datetime.timedelta(days=90))
    certificate_rules.install_certificate(request=issued, pem=pem, chain=chain, by=staff_user)

    cms_plan = PlanFactory(kind=Kind.CMS_HOSTING, name="CMS", requires_kind=Kind.SHARED_HOSTING)
    m365_plan = acme_objects["m365_pack"].plan
    objects = {
        **acme_objects, "backup": backup, "closed_ticket": closed, "second_quote": second_quote,
        "cert_asked": asked, "cert_issued": issued, "cms_plan": cms_plan,
    }  # fmt: skip
    pages = [
        reverse("service_detail", args=[hosting.pk]),
        reverse("service_detail", args=[acme_objects["cms_update"].service_id]),
        f"{reverse('hosting_restore', args=[hosting.pk])}?backup={backup.reference}",
        reverse("ticket_detail", args=[closed.number]),
        reverse("certificate_detail", args=[asked.pk]),
        reverse("certificate_detail", args=[issued.pk]),
        f"{reverse('certificate_new')}?renew={issued.pk}",
        f"{reverse('order_new')}?plan={hosting.plan_id}",
        f"{reverse('order_new')}?plan={cms_plan.pk}",
        f"{reverse('order_new')}?plan={m365_plan.pk}",
    ]
    return objects, pages
