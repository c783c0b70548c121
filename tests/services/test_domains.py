"""Domain requests (art. 4.2) and nameservers (art. 4.3): the rules, the customer's pages and the admin."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import AuditEvent
from billing.models import Invoice
from portal import crypto
from services import domains, registry
from services.models import DnsZone, DomainRequest, Kind, Service, ServiceEvent
from tests.conftest import client_for
from tests.factories import PlanFactory, ServiceFactory

Status = DomainRequest.Status
RequestKind = DomainRequest.Kind
NAMESERVERS = ["ns1.hosting-provider.example", "ns2.hosting-provider.example"]
TODAY = datetime.date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _our_nameservers(settings):
    settings.DNS_NAMESERVERS = NAMESERVERS
    settings.SUPPORT_STAFF_EMAILS = ["desk@portal.example"]


@pytest.fixture
def domain_plan(db):
    return PlanFactory(kind=Kind.DOMAIN, name=".be domain", price=Decimal("12.00"), specifications={})


@pytest.fixture
def admin_client(staff_user, settings):
    settings.PORTAL_ADMIN_REQUIRE_MFA = False
    return client_for(staff_user)


def submit(customer, by, kind=RequestKind.REGISTER, domain="acme.be", **fields):
    return domains.submit_request(customer=customer, by=by, kind=kind, domain=domain, **fields)


def pdf(name="trademark.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 proof of the trademark", content_type="application/pdf")


def field_errors(error: ValidationError) -> dict:
    return {field: " ".join(messages) for field, messages in error.message_dict.items()}


# Names


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("café.be", "xn--caf-dma.be"),
        ("Example.BE.", "example.be"),
        ("  ÉCOLE.be ", "xn--cole-9oa.be"),
        ("xn--caf-dma.be", "xn--caf-dma.be"),
        ("straße.de", "xn--strae-oqa.de"),  # IDNA 2008 keeps ß: strasse.de is another domain
        ("例え。テスト", "xn--r8jz45g.xn--zckzah"),
        ("a-b.co.uk", "a-b.co.uk"),
    ],
)
def test_domain_names_are_stored_in_lowercase_ascii_with_idn_in_punycode(text, expected):
    assert domains.normalize_domain(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter a domain name."),
        ("example", "with its extension"),
        ("ex ample.be", "no spaces"),
        ("https://example.be/", "without http://"),
        ("a..be", "two dots in a row"),
        (".be", "start with a dot"),
        ("-acme.be", "do not start or end a part with a hyphen"),
        ("acme_shop.be", "use letters, digits and hyphens"),
        ("a" * 64 + ".be", "at most 63 characters"),
        (".".join(["a" * 63] * 4) + ".be", "at most 253 characters"),
        ("xn--zz.be", "not a valid international (punycode) name"),
        ("192.168.1.10", "cannot be only digits"),
    ],
)
def test_invalid_domain_names_get_a_clear_message(text, message):
    with pytest.raises(ValidationError) as error:
        domains.normalize_domain(text)
    assert message in " ".join(error.value.messages)


def test_the_portal_shows_punycode_names_as_people_read_them():
    assert domains.display_domain("xn--caf-dma.be") == "café.be"
    assert domains.display_domain("xn--zz.be") == "xn--zz.be"  # not valid punycode: shown as stored


@given(st.text(max_size=300))
@hypothesis_settings(max_examples=400, deadline=None)
def test_any_text_is_either_a_clean_domain_name_or_a_validation_error(text):
    try:
        name = domains.normalize_domain(text)
    except ValidationError:
        return
    assert name == name.lower() and name.isascii() and len(name) <= 253 and not name.endswith(".")
    assert all(1 <= len(label) <= 63 for label in name.split("."))
    assert domains.normalize_domain(name) == name  # stable
    assert domains.normalize_domain(domains.display_domain(name)) == name  # round trip


# Submitting: each kind and its rules


@pytest.mark.django_db
def test_art_4_2_1_a_registration_waits_pending_at_the_registry_for_staff_with_the_manual_backend(
    customer, owner, domain_plan, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = submit(customer, owner, domain="café.be", years=2, plan=domain_plan)
    request.refresh_from_db()
    assert (request.domain, request.kind, request.status, request.years) == (
        "xn--caf-dma.be",
        "register",
        "pending_registry",
        2,
    )
    timeline = [(m.old_status, m.new_status, m.by_staff) for m in request.messages.all()]
    assert timeline == [("", "submitted", False), ("submitted", "pending_registry", True)]
    assert AuditEvent.objects.filter(action="domain_request.submitted", customer=customer).exists()
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == [
        "[café.be] New domain request: Registration for Acme SRL",
        "[café.be] We received your request: Registration",
    ]
    to_customer = next(m for m in mail.outbox if m.to == ["owner@acme.example"])
    assert "ns1.hosting-provider.example" in to_customer.body  # art. 4.3.1: our nameservers by default
    assert next(m for m in mail.outbox if m.to == ["desk@portal.example"])


def test_the_manual_registry_does_not_pretend_to_have_done_anything():
    backend = registry.get_registry()
    assert isinstance(backend, registry.ManualRegistry)
    assert backend.register(None).status == Status.PENDING_REGISTRY
    assert backend.transfer(None, "code").status == Status.PENDING_REGISTRY
    assert backend.trade(None).status == Status.PENDING_REGISTRY
    assert backend.set_nameservers("acme.be", NAMESERVERS) is False
    assert backend.renew(None, 1) is False


class GrantingRegistry(registry.ManualRegistry):
    """A backend whose registry grants registrations at once, as an EPP backend might."""

    def register(self, request):
        return registry.Outcome(status=Status.COMPLETED)


@pytest.mark.django_db
def test_the_registry_backend_is_a_setting_and_its_answer_is_applied_to_the_request(
    settings, customer, owner, domain_plan
):
    settings.DOMAIN_REGISTRY_BACKEND = "tests.services.test_domains.GrantingRegistry"
    request = submit(customer, owner, plan=domain_plan)
    request.refresh_from_db()
    assert request.status == Status.COMPLETED and request.service.zone.name == "acme.be"


@pytest.mark.django_db
def test_a_transfer_needs_the_auth_code_which_is_stored_encrypted(customer, owner):
    with pytest.raises(ValidationError) as error:
        submit(customer, owner, kind=RequestKind.TRANSFER, auth_code="  ")
    assert "auth code" in field_errors(error.value)["auth_code"]
    request = submit(customer, owner, kind=RequestKind.TRANSFER, auth_code="Xy7-secret-EPP")
    stored = DomainRequest.objects.filter(pk=request.pk).values_list("auth_code_encrypted", flat=True).get()
    assert stored and "Xy7-secret-EPP" not in stored
    assert crypto.decrypt(stored) == "Xy7-secret-EPP"


@pytest.mark.django_db
def test_the_auth_code_is_kept_only_for_transfers(customer, owner):
    request = submit(customer, owner, kind=RequestKind.REGISTER, auth_code="not-for-a-registration")
    assert request.auth_code_encrypted == ""


@pytest.mark.django_db
def test_art_4_2_2_a_trade_needs_the_new_owners_details(customer, owner):
    with pytest.raises(ValidationError) as error:
        submit(customer, owner, kind=RequestKind.TRADE)
    assert "new owner's details" in field_errors(error.value)["new_owner"]
    request = submit(customer, owner, kind=RequestKind.TRADE, new_owner="Acme SRL\nRue Neuve 1\n1000 Bruxelles")
    assert request.new_owner.startswith("Acme SRL") and request.status == Status.PENDING_REGISTRY


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("years", "message"), [(0, "at least one"), (-1, "at least one"), ("2", "at least one"), (11, "At most 10")]
)
def test_art_4_4_1_a_domain_is_requested_for_whole_years_at_least_one(customer, owner, years, message):
    with pytest.raises(ValidationError) as error:
        submit(customer, owner, years=years)
    assert message in field_errors(error.value)["years"]
    assert not DomainRequest.objects.exists()


@pytest.mark.django_db
def test_an_unknown_kind_or_a_plan_that_is_not_an_offered_domain_plan_is_refused(customer, owner):
    with pytest.raises(ValidationError) as error:
        submit(customer, owner, kind="steal")
    assert "kind" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        submit(customer, owner, plan=PlanFactory(kind=Kind.SHARED_HOSTING))
    assert "plan" in error.value.message_dict
    with pytest.raises(ValidationError):
        submit(customer, owner, plan=PlanFactory(kind=Kind.DOMAIN, is_active=False))


@pytest.mark.django_db
def test_a_domain_with_an_open_request_or_an_active_domain_service_is_refused(
    customer, owner, other_customer, other_owner
):
    submit(customer, owner, domain="acme.be")
    with pytest.raises(ValidationError) as error:
        submit(other_customer, other_owner, domain="ACME.be")
    assert "already in progress" in field_errors(error.value)["domain"]

    ServiceFactory(customer=customer, name="café.be", plan=PlanFactory(kind=Kind.DOMAIN))
    with pytest.raises(ValidationError) as error:
        submit(customer, owner, domain="xn--caf-dma.be", kind=RequestKind.DNS_HOSTING)
    assert "already one of your domains" in field_errors(error.value)["domain"]
    with pytest.raises(ValidationError) as error:
        submit(other_customer, other_owner, domain="café.be", kind=RequestKind.TRANSFER, auth_code="x")
    assert "ask for a trade" in field_errors(error.value)["domain"]
    # The new owner of a domain another customer holds with us asks for a trade (art. 4.2.2).
    trade = submit(other_customer, other_owner, domain="café.be", kind=RequestKind.TRADE, new_owner="Globex NV")
    assert trade.status == Status.PENDING_REGISTRY


@pytest.mark.django_db
def test_a_rejected_request_or_an_ended_domain_does_not_block_a_new_request(customer, owner, staff_user):
    first = submit(customer, owner)
    domains.reject(request=first, by=staff_user, message="The registry refused.")
    ServiceFactory(customer=customer, name="acme.be", plan=PlanFactory(kind=Kind.DOMAIN), status=Service.Status.ENDED)
    assert submit(customer, owner).status == Status.PENDING_REGISTRY


@pytest.mark.django_db
def test_art_4_3_2_dns_hosting_of_a_domain_registered_elsewhere_tells_the_customer_where_to_point_it(
    customer, technical_member, staff_user, domain_plan, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = submit(customer, technical_member, kind=RequestKind.DNS_HOSTING, domain="acme-elsewhere.com", years=5)
    assert (request.status, request.years) == (Status.SUBMITTED, 1)  # no registry, no term: staff set it up
    to_customer = next(m for m in mail.outbox if "tech@acme.example" in m.to)
    assert "change its NS records at the registrar" in to_customer.body
    assert all(ns in to_customer.body for ns in NAMESERVERS)

    service = domains.complete(request=request, by=staff_user, today=TODAY)
    assert service.current_period_end is None and service.status == Service.Status.ACTIVE
    assert DnsZone.objects.get(service=service).name == "acme-elsewhere.com"
    assert not Invoice.objects.exists()  # hosting DNS is not a registration: nothing to invoice


# Staff record the registry's answers


@pytest.mark.django_db
def test_art_4_2_1_information_requested_needs_the_question_for_the_customer(customer, owner, staff_user):
    request = submit(customer, owner)
    with pytest.raises(ValidationError) as error:
        domains.set_status(request=request, status=Status.INFORMATION_REQUESTED, by=staff_user, message=" ")
    assert "proof of a trademark" in field_errors(error.value)["message"]
    request.refresh_from_db()
    assert request.status == Status.PENDING_REGISTRY


@pytest.mark.django_db
def test_set_status_records_old_and_new_status_and_emails_the_customer(
    customer, owner, staff_user, django_capture_on_commit_callbacks
):
    request = submit(customer, owner)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        entry = domains.set_status(
            request=request, status=Status.INFORMATION_REQUESTED, by=staff_user,
            message="DNS Belgium asks for proof of the ACME trademark.",
        )  # fmt: skip
    assert (entry.old_status, entry.new_status, entry.by_staff, entry.author) == (
        "pending_registry", "information_requested", True, staff_user,
    )  # fmt: skip
    [email] = mail.outbox
    assert email.subject == "[acme.be] The registry needs more information"
    assert email.to == ["owner@acme.example"]
    assert "proof of the ACME trademark" in email.body and request.get_absolute_url() in email.body
    assert AuditEvent.objects.filter(action="domain_request.status_changed", actor=staff_user).exists()


@pytest.mark.django_db
def test_completion_and_rejection_are_not_set_as_plain_statuses(customer, owner, staff_user):
    request = submit(customer, owner)
    for status in (Status.COMPLETED, Status.REJECTED, Status.SUBMITTED):
        with pytest.raises(ValidationError):
            domains.set_status(request=request, status=status, by=staff_user)
    with pytest.raises(ValidationError):  # the same status without a message says nothing
        domains.set_status(request=request, status=Status.PENDING_REGISTRY, by=staff_user)
    entry = domains.set_status(request=request, status=Status.PENDING_REGISTRY, by=staff_user, message="Filed.")
    assert (entry.old_status, entry.new_status, entry.body) == ("", "", "Filed.")


@pytest.mark.django_db
def test_art_4_2_1_the_customer_answers_with_a_document_and_the_request_goes_back_to_the_registry(
    customer, owner, staff_user, django_capture_on_commit_callbacks
):
    request = submit(customer, owner)
    domains.set_status(request=request, status=Status.INFORMATION_REQUESTED, by=staff_user, message="Proof?")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        entry = domains.answer(request=request, by=owner, body="Here is the certificate.", document=pdf())
    request.refresh_from_db()
    assert request.status == Status.PENDING_REGISTRY
    assert (entry.old_status, entry.new_status, entry.by_staff) == ("information_requested", "pending_registry", False)
    assert entry.document_name == "trademark.pdf" and entry.document.read().startswith(b"%PDF")
    [email] = mail.outbox
    assert email.to == ["desk@portal.example"] and "trademark.pdf" in email.body
    assert "/admin/services/domainrequest/" in email.body


@pytest.mark.django_db
def test_an_answer_to_a_dns_hosting_question_goes_back_to_staff_not_to_a_registry(customer, owner, staff_user):
    request = submit(customer, owner, kind=RequestKind.DNS_HOSTING)
    domains.set_status(request=request, status=Status.INFORMATION_REQUESTED, by=staff_user, message="Owner?")
    domains.answer(request=request, by=owner, body="We own it.")
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED


@pytest.mark.django_db
def test_an_answer_needs_text_or_an_accepted_document_on_an_open_request(customer, owner, staff_user):
    request = submit(customer, owner)
    with pytest.raises(ValidationError) as error:
        domains.answer(request=request, by=owner, body="  ")
    assert "Write an answer or attach a document." in field_errors(error.value)["body"]
    script = SimpleUploadedFile("proof.exe", b"MZ", content_type="application/octet-stream")
    with pytest.raises(ValidationError) as error:
        domains.answer(request=request, by=owner, body="", document=script)
    assert "not accepted" in field_errors(error.value)["document"]
    domains.reject(request=request, by=staff_user, message="Refused by the registry.")
    with pytest.raises(ValidationError):
        domains.answer(request=request, by=owner, body="Too late?")
    assert request.messages.filter(by_staff=False).count() == 1  # only the submission


@pytest.mark.django_db
def test_completion_creates_the_domain_service_for_whole_years_its_zone_and_the_first_invoice(
    customer, owner, staff_user, domain_plan, django_capture_on_commit_callbacks
):
    request = submit(customer, owner, domain="café.be", years=2)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        service = domains.complete(request=request, by=staff_user, today=TODAY)
    request.refresh_from_db()
    assert request.status == Status.COMPLETED and request.service == service and request.plan == domain_plan
    assert (service.customer, service.plan, service.name, service.status) == (
        customer,
        domain_plan,
        "café.be",
        "active",
    )
    assert (service.started_on, service.current_period_end) == (TODAY, datetime.date(2028, 3, 2))
    assert list(ServiceEvent.objects.filter(service=service).values_list("field", flat=True)) == ["created", "period"]
    zone = DnsZone.objects.get(service=service)
    assert (zone.name, zone.serial) == ("xn--caf-dma.be", 2026030201)
    invoice = Invoice.objects.get(customer=customer)
    assert invoice.subtotal == Decimal("24.00") and invoice.issued_on == TODAY
    assert invoice.lines.get().quantity == 2
    [email] = mail.outbox
    assert email.subject == "[café.be] Your domain request is now: Completed"
    assert invoice.number in email.body and "March 2, 2028" in email.body


@pytest.mark.django_db
def test_a_term_starting_on_29_february_ends_on_28_february(customer, owner, staff_user, domain_plan):
    request = submit(customer, owner)
    service = domains.complete(request=request, by=staff_user, today=datetime.date(2028, 2, 29))
    assert service.current_period_end == datetime.date(2029, 2, 28)


@pytest.mark.django_db
def test_completion_is_refused_without_a_domain_plan_or_when_the_zone_exists(customer, owner, staff_user):
    request = submit(customer, owner)
    with pytest.raises(ValidationError, match="No domain plan"):
        domains.complete(request=request, by=staff_user, today=TODAY)
    plan = PlanFactory(kind=Kind.DOMAIN)
    DnsZone.objects.create(service=ServiceFactory(plan=plan), name="acme.be", serial=2026010101)
    with pytest.raises(ValidationError, match="already exists"):
        domains.complete(request=request, by=staff_user, today=TODAY)
    assert not Service.objects.filter(customer=customer).exists()


@pytest.mark.django_db
def test_staff_may_choose_the_plan_of_the_domain_service_on_completion(customer, owner, staff_user, domain_plan):
    premium = PlanFactory(kind=Kind.DOMAIN, name="Premium", price=Decimal("30.00"))
    service = domains.complete(request=submit(customer, owner), by=staff_user, today=TODAY, plan=premium)
    assert service.plan == premium


@pytest.mark.django_db
def test_rejection_needs_the_reason_and_closes_the_request(
    customer, owner, staff_user, domain_plan, django_capture_on_commit_callbacks
):
    request = submit(customer, owner)
    with pytest.raises(ValidationError):
        domains.reject(request=request, by=staff_user, message="")
    with django_capture_on_commit_callbacks(execute=True):
        domains.reject(request=request, by=staff_user, message="The name is reserved by the registry.")
    request.refresh_from_db()
    assert request.status == Status.REJECTED
    assert mail.outbox[-1].subject == "[acme.be] Your domain request is now: Rejected"
    assert "reserved by the registry" in mail.outbox[-1].body
    for change in (
        lambda: domains.complete(request=request, by=staff_user, today=TODAY),
        lambda: domains.reject(request=request, by=staff_user, message="again"),
        lambda: domains.set_status(request=request, status=Status.PENDING_REGISTRY, by=staff_user, message="x"),
    ):
        with pytest.raises(ValidationError):
            change()
    assert not Service.objects.exists()


@pytest.mark.django_db
def test_revealing_the_auth_code_is_for_staff_and_audited(customer, owner, staff_user):
    request = submit(customer, owner, kind=RequestKind.TRANSFER, auth_code="Xy7-secret-EPP")
    with pytest.raises(PermissionDenied):
        domains.reveal_auth_code(request=request, by=owner)
    assert domains.reveal_auth_code(request=request, by=staff_user) == "Xy7-secret-EPP"
    event = AuditEvent.objects.get(action="domain_request.auth_code_revealed")
    assert (event.actor, event.customer, event.object_id) == (staff_user, customer, str(request.pk))


# The customer's pages


def _new(client, **data):
    return client.post(reverse("domain_request_new"), {"kind": RequestKind.REGISTER, "years": 1, **data})


@pytest.mark.django_db
def test_the_requests_list_shows_the_customers_requests_and_our_nameservers(owner_client, customer, owner):
    request = submit(customer, owner, domain="café.be")
    body = owner_client.get(reverse("domain_request_list")).content.decode()
    assert "café.be" in body and request.get_absolute_url() in body and "Pending at the registry" in body
    assert all(ns in body for ns in NAMESERVERS)
    assert reverse("domain_request_new") in body


@pytest.mark.django_db
def test_the_requests_list_query_count_does_not_grow_with_rows(
    owner_client, customer, owner, django_assert_max_num_queries
):
    def make(count, start):
        DomainRequest.objects.bulk_create(
            DomainRequest(customer=customer, domain=f"bulk{start + i}.be", kind="register", requested_by=owner)
            for i in range(count)
        )

    make(3, 0)
    owner_client.get(reverse("domain_request_list"))
    with django_assert_max_num_queries(15) as small:
        owner_client.get(reverse("domain_request_list"))
    make(60, 3)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = owner_client.get(reverse("domain_request_list"))
    assert "Page 1 of 3" in response.content.decode()


@pytest.mark.django_db
def test_the_new_request_page_offers_the_kinds_each_role_may_ask_for(owner_client, technical_client, billing_member):
    owner_body = owner_client.get(reverse("domain_request_new")).content.decode()
    assert all(f'value="{kind}"' in owner_body for kind in RequestKind.values)
    technical_body = technical_client.get(reverse("domain_request_new")).content.decode()
    assert 'value="dns_hosting"' in technical_body and 'value="register"' not in technical_body
    billing_body = client_for(billing_member).get(reverse("domain_request_new")).content.decode()
    assert 'value="register"' in billing_body and 'value="dns_hosting"' not in billing_body


@pytest.mark.django_db
def test_the_form_shows_the_fields_of_the_chosen_kind_with_htmx_and_without_javascript(owner_client, domain_plan):
    fragment = owner_client.get(
        reverse("domain_request_new"), {"kind": "transfer"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert fragment.lstrip().startswith('<form id="request-form"') and "<html" not in fragment
    assert 'name="auth_code"' in fragment and 'name="new_owner"' not in fragment
    assert ".be domain" in fragment and 'name="years"' in fragment
    # Without JavaScript the kind chooser is a GET form: the page comes back with the trade's fields.
    page = owner_client.get(reverse("domain_request_new"), {"kind": "trade"}).content.decode()
    assert 'name="new_owner"' in page and 'name="auth_code"' not in page and "<html" in page
    assert "<noscript>" in page and 'hx-get="/services/domains/requests/new/"' in page
    restored = owner_client.get(
        reverse("domain_request_new"), {"kind": "trade"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )  # fmt: skip
    assert "<html" in restored.content.decode()  # htmx restoring history after "back" needs the whole page
    dns_hosting = owner_client.get(reverse("domain_request_new"), {"kind": "dns_hosting"}).content.decode()
    assert 'name="years"' not in dns_hosting and "change its NS records at that registrar" in dns_hosting
    assert all(ns in dns_hosting for ns in NAMESERVERS)


@pytest.mark.django_db
def test_an_owner_requests_a_registration_and_is_sent_to_its_page(
    owner_client, customer, domain_plan, reauthenticated, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _new(owner_client, domain="Café.be", years=3, plan=domain_plan.pk)
    request = DomainRequest.objects.get()
    assert response.status_code == 302 and response.url == request.get_absolute_url()
    assert (request.customer, request.domain, request.years, request.plan) == (
        customer,
        "xn--caf-dma.be",
        3,
        domain_plan,
    )
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_requesting_a_domain_asks_for_the_password_again(owner_client, domain_plan):
    response = _new(owner_client, domain="acme.be", plan=domain_plan.pk)
    assert response.status_code == 302 and response.url.startswith(reverse("account_reauthenticate"))
    assert not DomainRequest.objects.exists()


@pytest.mark.django_db
def test_an_htmx_request_is_sent_to_reauthenticate_with_a_full_page_redirect(owner_client, domain_plan):
    response = owner_client.post(
        reverse("domain_request_new"), {"kind": "register", "domain": "acme.be", "years": 1, "plan": domain_plan.pk},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert response.status_code == 200 and response["HX-Redirect"].startswith(reverse("account_reauthenticate"))


@pytest.mark.django_db
def test_a_technical_contact_may_host_dns_but_not_register_and_a_billing_contact_the_reverse(
    technical_client, billing_member, domain_plan, reauthenticated
):
    assert _new(technical_client, domain="acme.be", plan=domain_plan.pk).status_code == 403
    response = _new(technical_client, kind="dns_hosting", domain="acme-elsewhere.com")
    assert response.status_code == 302
    billing_client = client_for(billing_member)
    assert _new(billing_client, kind="dns_hosting", domain="acme-other.com").status_code == 403
    assert _new(billing_client, domain="acme.be", plan=domain_plan.pk).status_code == 302
    assert sorted(DomainRequest.objects.values_list("kind", flat=True)) == ["dns_hosting", "register"]


@pytest.mark.django_db
def test_an_invalid_request_shows_its_errors_and_never_echoes_the_auth_code(owner_client, domain_plan, reauthenticated):
    response = _new(owner_client, kind="transfer", domain="acme..be", years=1, plan=domain_plan.pk, auth_code="Xy7-EPP")
    body = response.content.decode()
    assert response.status_code == 200 and "two dots in a row" in body and 'aria-invalid="true"' in body
    assert "Xy7-EPP" not in body
    response = _new(owner_client, kind="transfer", domain="acme.be", years=1, plan=domain_plan.pk)
    assert "auth code" in response.content.decode() and not DomainRequest.objects.exists()


@given(domain=st.text(max_size=80), years=st.text(max_size=5), auth_code=st.text(max_size=30))
@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@pytest.mark.django_db
def test_no_input_makes_the_new_request_page_answer_500(
    owner_client, domain_plan, reauthenticated, domain, years, auth_code
):
    data = {"kind": "transfer", "domain": domain, "years": years, "plan": domain_plan.pk, "auth_code": auth_code}
    response = owner_client.post(reverse("domain_request_new"), data)
    assert response.status_code in (200, 302)


@pytest.mark.django_db
def test_the_request_page_shows_the_timeline_and_never_the_auth_code(owner_client, customer, owner, staff_user):
    request = submit(customer, owner, kind=RequestKind.TRANSFER, domain="café.be", auth_code="Xy7-secret-EPP")
    domains.set_status(request=request, status=Status.INFORMATION_REQUESTED, by=staff_user, message="Proof please.")
    body = owner_client.get(request.get_absolute_url()).content.decode()
    assert "Xy7-secret-EPP" not in body and "stored encrypted" in body
    assert "registered as xn--caf-dma.be" in body
    assert "Status: Submitted → Pending at the registry" in body
    assert "Status: Pending at the registry → Information requested" in body
    assert "The registry needs more information" in body and "Proof please." in body
    assert 'id="answer-form"' in body and 'enctype="multipart/form-data"' in body
    assert "Xy7-secret-EPP" not in owner_client.get(reverse("domain_request_list")).content.decode()


@pytest.mark.django_db
def test_art_4_2_1_the_customer_answers_in_the_portal_and_staff_see_the_document_in_the_admin(
    owner_client, customer, owner, staff_user, admin_client, django_capture_on_commit_callbacks
):
    request = submit(customer, owner)
    domains.set_status(request=request, status=Status.INFORMATION_REQUESTED, by=staff_user, message="Trademark?")
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(request.get_absolute_url(), {"body": "Attached.", "document": pdf()})
    assert response.status_code == 302 and response.url == request.get_absolute_url()
    request.refresh_from_db()
    assert request.status == Status.PENDING_REGISTRY
    entry = request.messages.get(document_name="trademark.pdf")
    assert mail.outbox[-1].to == ["desk@portal.example"]
    # The customer downloads it back from the timeline.
    page = owner_client.get(request.get_absolute_url()).content.decode()
    download = reverse("domain_request_document", args=[request.pk, entry.pk])
    assert download in page and 'id="answer-form"' in page  # more can still be added while open
    response = owner_client.get(download)
    assert response["Content-Disposition"].startswith('attachment; filename="trademark.pdf"')
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    # Staff see it in the admin's timeline and download it there.
    change_page = admin_client.get(reverse("admin:services_domainrequest_change", args=[request.pk])).content.decode()
    staff_download = reverse("admin:services_domainrequest_document", args=[request.pk, entry.pk])
    assert "Attached." in change_page and staff_download in change_page
    assert b"".join(admin_client.get(staff_download).streaming_content).startswith(b"%PDF")


@pytest.mark.django_db
def test_an_htmx_answer_returns_the_progress_fragment(owner_client, customer, owner, staff_user):
    request = submit(customer, owner)
    domains.set_status(request=request, status=Status.INFORMATION_REQUESTED, by=staff_user, message="Trademark?")
    response = owner_client.post(request.get_absolute_url(), {"body": "Here."}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="request-state"') and "<html" not in body
    assert "Your answer was sent to our staff." in body and "Pending at the registry" in body
    error = owner_client.post(request.get_absolute_url(), {"body": ""}, headers={"HX-Request": "true"})
    assert "Write an answer or attach a document." in error.content.decode()


@pytest.mark.django_db
def test_only_members_who_may_ask_for_the_kind_answer_it(customer, owner, technical_client, staff_user):
    request = submit(customer, owner)
    domains.set_status(request=request, status=Status.INFORMATION_REQUESTED, by=staff_user, message="Trademark?")
    page = technical_client.get(request.get_absolute_url())
    assert page.status_code == 200 and 'id="answer-form"' not in page.content.decode()
    assert technical_client.post(request.get_absolute_url(), {"body": "Me too"}).status_code == 403
    assert request.messages.filter(by_staff=False).count() == 1


@pytest.mark.django_db
def test_another_customers_request_and_document_are_not_found(customer, owner, other_client, staff_user):
    request = submit(customer, owner)
    domains.set_status(request=request, status=Status.INFORMATION_REQUESTED, by=staff_user, message="Trademark?")
    entry = domains.answer(request=request, by=owner, body="", document=pdf())
    assert other_client.get(request.get_absolute_url()).status_code == 404
    assert other_client.post(request.get_absolute_url(), {"body": "intruder"}).status_code == 404
    assert other_client.get(reverse("domain_request_document", args=[request.pk, entry.pk])).status_code == 404
    assert not request.messages.filter(body="intruder").exists()


@pytest.mark.django_db
def test_a_document_is_found_only_under_its_own_request(owner_client, customer, owner, staff_user):
    first, second = submit(customer, owner, domain="acme.be"), submit(customer, owner, domain="acme.eu")
    domains.set_status(request=first, status=Status.INFORMATION_REQUESTED, by=staff_user, message="Proof?")
    entry = domains.answer(request=first, by=owner, body="", document=pdf())
    assert owner_client.get(reverse("domain_request_document", args=[second.pk, entry.pk])).status_code == 404
    text_only = first.messages.filter(document="").first()
    assert owner_client.get(reverse("domain_request_document", args=[first.pk, text_only.pk])).status_code == 404


@pytest.mark.django_db
def test_a_completed_request_links_to_its_domain_service(owner_client, customer, owner, staff_user, domain_plan):
    request = submit(customer, owner)
    service = domains.complete(request=request, by=staff_user, today=TODAY)
    body = owner_client.get(request.get_absolute_url()).content.decode()
    assert service.get_absolute_url() in body and 'id="answer-form"' not in body


# The admin


def _record(admin_client, request: DomainRequest, **data):
    """Post the change form as the browser does, with the read-only timeline's management form."""
    ids = list(request.messages.values_list("pk", flat=True))
    timeline = {"messages-TOTAL_FORMS": len(ids), "messages-INITIAL_FORMS": len(ids)}
    timeline.update({f"messages-{i}-id": pk for i, pk in enumerate(ids)})
    timeline.update({f"messages-{i}-request": request.pk for i in range(len(ids))})
    return admin_client.post(reverse("admin:services_domainrequest_change", args=[request.pk]), {**timeline, **data})


@pytest.mark.django_db
def test_staff_find_requests_in_the_admin_by_status_and_domain(admin_client, customer, owner):
    submit(customer, owner, domain="acme.be")
    changelist = reverse("admin:services_domainrequest_changelist")
    assert "acme.be" in admin_client.get(changelist, {"status__exact": "pending_registry"}).content.decode()
    assert "acme.be" not in admin_client.get(changelist, {"status__exact": "completed"}).content.decode()
    assert "acme.be" in admin_client.get(changelist, {"q": "acme"}).content.decode()
    assert admin_client.get(reverse("admin:services_domainrequest_add")).status_code == 403


@pytest.mark.django_db
def test_staff_ask_for_information_from_the_change_form_and_the_message_is_required(
    admin_client, customer, owner, staff_user
):
    request = submit(customer, owner)
    response = _record(admin_client, request, outcome="information_requested", message="")
    assert response.status_code == 200 and "Write the message the customer will read." in response.content.decode()
    response = _record(admin_client, request, outcome="information_requested", message="Proof of the trademark?")
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == Status.INFORMATION_REQUESTED
    assert request.messages.last().author == staff_user


@pytest.mark.django_db
def test_staff_complete_from_the_change_form_with_a_plan(admin_client, customer, owner, domain_plan):
    premium = PlanFactory(kind=Kind.DOMAIN, name="Premium", price=Decimal("30.00"))
    request = submit(customer, owner)
    assert _record(admin_client, request, outcome="complete", completion_plan=premium.pk).status_code == 302
    request.refresh_from_db()
    assert request.status == Status.COMPLETED and request.service.plan == premium
    page = admin_client.get(reverse("admin:services_domainrequest_change", args=[request.pk])).content.decode()
    assert 'name="outcome"' not in page  # a closed request has nothing more to record


@pytest.mark.django_db
def test_staff_reject_several_requests_with_one_reason(
    admin_client, customer, owner, django_capture_on_commit_callbacks
):
    first, second = submit(customer, owner, domain="acme.be"), submit(customer, owner, domain="acme.eu")
    changelist = reverse("admin:services_domainrequest_changelist")
    selection = {"action": "reject_requests", "_selected_action": [first.pk, second.pk]}
    page = admin_client.post(changelist, selection)
    assert page.status_code == 200 and "Why are these requests rejected?" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(changelist, {**selection, "apply": "1", "message": "Reserved names."})
    assert response.status_code == 302
    assert set(DomainRequest.objects.values_list("status", flat=True)) == {Status.REJECTED}
    assert sum("Reserved names." in m.body for m in mail.outbox) == 2


@pytest.mark.django_db
def test_staff_mark_requests_filed_and_complete_them_from_the_list(admin_client, customer, owner, domain_plan):
    request = submit(customer, owner, kind=RequestKind.DNS_HOSTING)
    changelist = reverse("admin:services_domainrequest_changelist")
    admin_client.post(changelist, {"action": "mark_pending", "_selected_action": [request.pk]})
    request.refresh_from_db()
    assert request.status == Status.PENDING_REGISTRY
    admin_client.post(changelist, {"action": "complete_requests", "_selected_action": [request.pk]})
    request.refresh_from_db()
    assert request.status == Status.COMPLETED and DnsZone.objects.filter(name="acme.be").exists()


@pytest.mark.django_db
def test_staff_reveal_the_auth_code_only_on_an_explicit_audited_action(admin_client, customer, owner, staff_user):
    request = submit(customer, owner, kind=RequestKind.TRANSFER, auth_code="Xy7-secret-EPP")
    change_page = admin_client.get(reverse("admin:services_domainrequest_change", args=[request.pk])).content.decode()
    assert "Xy7-secret-EPP" not in change_page
    reveal = reverse("admin:services_domainrequest_auth_code", args=[request.pk])
    assert reveal in change_page
    confirm = admin_client.get(reveal)
    assert "Xy7-secret-EPP" not in confirm.content.decode()
    assert not AuditEvent.objects.filter(action="domain_request.auth_code_revealed").exists()
    shown = admin_client.post(reveal)
    assert "Xy7-secret-EPP" in shown.content.decode() and "no-store" in shown["Cache-Control"]
    assert AuditEvent.objects.get(action="domain_request.auth_code_revealed").actor == staff_user


@pytest.mark.django_db
def test_a_request_without_an_auth_code_has_nothing_to_reveal(admin_client, customer, owner):
    request = submit(customer, owner)
    assert admin_client.post(reverse("admin:services_domainrequest_auth_code", args=[request.pk])).status_code == 404
