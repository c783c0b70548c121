"""SSL certificates (art. 5): requests, the customer's CSR, states and timeline, installing the issued
certificate, revocation, renewal, the integration ticket, the pages and the admin."""

import datetime
from decimal import Decimal

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import AuditEvent
from portal import crypto
from services import certificates
from services.certificate_authority import ManualCertificateAuthority, Outcome, get_certificate_authority
from services.models import Certificate, CertificateRequest, Kind, Service, ServiceEvent
from support.models import Ticket
from tests.conftest import client_for
from tests.factories import PlanFactory, ServiceFactory
from tests.services.test_inspect import DAY, NOW, cached_key, key_pem, make_csr, make_pki, to_pem

Status = CertificateRequest.Status
NAMES = ["shop.acme.example", "acme.example"]


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def ssl_plan(db):
    return PlanFactory(
        kind=Kind.SSL_CERTIFICATE, name="Domain validated", price=Decimal("49.00"), specifications={"validation": "DV"}
    )


@pytest.fixture
def cert_request(customer, owner, ssl_plan):
    return certificates.request_certificate(customer=customer, by=owner, names=NAMES, plan=ssl_plan, key_type="ec256",
                                            now=NOW)  # fmt: skip


@pytest.fixture
def csr_request(customer, owner, ssl_plan):
    csr = make_csr(cached_key("rsa-customer"), NAMES)
    return certificates.request_certificate(customer=customer, by=owner, names=NAMES, plan=ssl_plan, csr_pem=csr,
                                            now=NOW)  # fmt: skip


def issue(request: CertificateRequest, *, names=None, key=None, not_before=NOW - DAY, not_after=NOW + 364 * DAY):
    """What the CA would send for ``request``: the leaf (for its CSR's key, or ``key``) and the chain."""
    pki = make_pki(["unused.example"])
    public_key = key.public_key() if key else x509.load_pem_x509_csr(request.csr_pem.encode()).public_key()
    names = names or request.names
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, names[0])]))
        .issuer_name(pki.intermediate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .sign(cached_key("p256-intermediate"), hashes.SHA256())
    )
    return to_pem(leaf), to_pem(pki.intermediate, pki.root)


def installed(request: CertificateRequest, by, **options) -> Certificate:
    pem, chain = issue(request, **options)
    return certificates.install_certificate(request=request, pem=pem, chain=chain, by=by, now=NOW)


def subjects() -> list[str]:
    return [message.subject for message in mail.outbox]


# Names


def test_names_become_host_names_in_punycode_with_a_wildcard_only_in_front():
    names = certificates.validate_names("Bücher.Example.\n*.acme.example, www.acme.example")
    assert names == ["xn--bcher-kva.example", "*.acme.example", "www.acme.example"]


@pytest.mark.parametrize(
    ("names", "fragment"),
    [
        ("a.example\nA.example", "listed twice"),
        ("192.0.2.1", "IP address"),
        ("www.*.example", "wildcard is only allowed"),
        ("*.example", "not a complete host name"),
        ("exa_mple.com", "not a valid host name"),
        ("https://acme.example/", "without https://"),
        ("", "at least one host name"),
        ("\n".join(f"h{i}.example" for i in range(101)), "at most 100 names"),
    ],
)
def test_names_are_refused_with_a_message_naming_the_problem(names, fragment):
    with pytest.raises(ValidationError) as error:
        certificates.validate_names(names)
    assert fragment in " ".join(error.value.message_dict["names"])


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(st.text(max_size=70), max_size=5)))
def test_no_text_makes_the_name_check_fail_otherwise_than_with_a_message(names):
    try:
        certificates.validate_names(names)
    except ValidationError as error:
        assert all(error.message_dict["names"])


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_no_text_makes_the_csr_check_fail_otherwise_than_with_a_message(text):
    with pytest.raises(ValidationError):
        certificates.check_csr(text, NAMES)


# Requests with a key the portal generates


@pytest.mark.django_db
def test_art_5_1_1_the_portal_generates_the_key_and_csr_for_names_the_customer_chooses(
    customer, owner, staff_user, ssl_plan, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = certificates.request_certificate(
            customer=customer, by=owner, names="not-our-domain.example\nwww.not-our-domain.example", plan=ssl_plan,
            now=NOW,
        )  # fmt: skip
    assert request.status == Status.REQUESTED and request.key_source == "generated"
    csr = x509.load_pem_x509_csr(request.csr_pem.encode())
    assert csr.is_signature_valid
    assert csr.subject.rfc4514_string() == "CN=not-our-domain.example"
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["not-our-domain.example", "www.not-our-domain.example"]
    # The key is encrypted at rest and is the CSR's key.
    assert "PRIVATE KEY" not in request.private_key_encrypted
    key = serialization.load_pem_private_key(crypto.decrypt(request.private_key_encrypted).encode(), password=None)
    assert key.key_size == 2048 and key.public_key() == csr.public_key()
    (first,) = request.messages.all()
    assert (first.old_status, first.new_status, first.author) == ("", Status.REQUESTED, owner)
    assert subjects() == [
        "[Certificate not-our-domain.example] Now: Requested",
        "[Certificate not-our-domain.example] New request to file with the certificate authority",
    ]
    assert mail.outbox[0].to == ["owner@acme.example"] and mail.outbox[1].to == ["staff@portal.example"]
    assert AuditEvent.objects.filter(action="certificate.requested", customer=customer).exists()


@pytest.mark.django_db
def test_an_ecdsa_key_can_be_chosen(cert_request):
    key = serialization.load_pem_private_key(crypto.decrypt(cert_request.private_key_encrypted).encode(), None)
    assert key.curve.name == "secp256r1"
    assert certificates.key_type_of(cert_request) == "ec256"


@pytest.mark.django_db
def test_the_private_key_is_downloaded_once_and_never_again(cert_request, owner):
    key = certificates.download_key(request=cert_request, by=owner, now=NOW)
    assert key.startswith("-----BEGIN PRIVATE KEY-----")
    cert_request.refresh_from_db()
    assert cert_request.key_downloaded_at == NOW
    with pytest.raises(ValidationError, match="never shown again"):
        certificates.download_key(request=cert_request, by=owner, now=NOW)
    assert AuditEvent.objects.filter(action="certificate.key_downloaded").count() == 1


@pytest.mark.django_db
def test_the_key_download_button_gives_the_key_once(cert_request, technical_member, reauthenticated):
    client = client_for(technical_member)
    url = reverse("certificate_key_download", args=[cert_request.pk])
    assert "Download the private key (once)" in client.get(cert_request.get_absolute_url()).content.decode()
    response = client.post(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="shop.acme.example.key"'
    assert response["Cache-Control"] == "no-store"
    assert response.content.decode().startswith("-----BEGIN PRIVATE KEY-----")
    again = client.post(url, follow=True)
    assert "never shown again" in again.content.decode()
    assert "-----BEGIN PRIVATE KEY-----" not in again.content.decode()
    assert client.get(url).status_code == 405


@pytest.mark.django_db
def test_downloading_the_key_asks_for_the_password_again(cert_request, owner_client):
    response = owner_client.post(reverse("certificate_key_download", args=[cert_request.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("account_reauthenticate"))
    cert_request.refresh_from_db()
    assert cert_request.key_downloaded_at is None


@pytest.mark.django_db
def test_a_billing_contact_sees_certificates_but_cannot_request_or_download(
    cert_request, billing_member, reauthenticated
):
    client = client_for(billing_member)
    assert client.get(reverse("certificate_list")).status_code == 200
    assert client.get(cert_request.get_absolute_url()).status_code == 200
    assert client.get(reverse("certificate_new")).status_code == 403
    assert client.post(reverse("certificate_new"), {"names": "a.example", "key_source": "generated"}).status_code == 403
    assert client.post(reverse("certificate_key_download", args=[cert_request.pk])).status_code == 403
    assert client.post(reverse("certificate_upload", args=[cert_request.pk]), {"pem": "x"}).status_code == 403
    assert CertificateRequest.objects.count() == 1


# The customer's own CSR


@pytest.mark.django_db
def test_a_customers_csr_is_accepted_when_its_names_match(csr_request):
    assert csr_request.key_source == "customer_csr" and csr_request.private_key_encrypted == ""
    assert csr_request.names == NAMES
    with pytest.raises(ValidationError, match="own CSR"):
        certificates.download_key(request=csr_request, by=csr_request.requested_by)


@pytest.mark.django_db
def test_the_names_come_from_the_csr_when_none_are_typed(customer, owner):
    csr = make_csr(cached_key("p384-customer"), ["www.acme.example", "acme.example"], common_name="acme.example")
    request = certificates.request_certificate(customer=customer, by=owner, names="", csr_pem=csr, now=NOW)
    assert request.names == ["acme.example", "www.acme.example"]  # the common name first


def _tampered_csr() -> str:
    der = bytearray(
        x509.load_pem_x509_csr(make_csr(cached_key("p256-t"), NAMES).encode()).public_bytes(serialization.Encoding.DER)
    )
    der[-1] ^= 0x01  # a bit of the signature
    return x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM).decode()


def _csr_cases():
    from tests.services.test_inspect import make_certificate

    return {
        "rsa 1024": (make_csr(cached_key("rsa1024-c"), NAMES), "has 1024 bits; at least 2048"),
        "p-521": (make_csr(cached_key("p521-c"), NAMES), "curve secp521r1; only P-256 and P-384"),
        "a name missing": (make_csr(cached_key("p256-c"), NAMES[:1]), "lacks names you requested: acme.example"),
        "a name too many": (
            make_csr(cached_key("p256-c"), [*NAMES, "evil.example"]),
            "names you did not request: evil.example",
        ),
        "bad signature": (_tampered_csr(), "signature is not valid"),
        "a certificate": (to_pem(make_certificate(key=cached_key("p256-c"))), "a certificate, not a certificate"),
        "a private key": (key_pem(cached_key("p256-c")), "never send it to anyone"),
        "garbage": (
            "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----",
            "could not be read",
        ),
        "truncated": (make_csr(cached_key("p256-c"), NAMES)[:200], "incomplete"),
        "binary": (b"\x30\x82\x01\x00\xff\xfe".decode("latin-1"), "binary"),
        "two csrs": (make_csr(cached_key("p256-c"), NAMES) * 2, "one CSR only"),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(_csr_cases()))
def test_a_customers_csr_is_checked_with_a_clear_message(customer, owner, case):
    csr, fragment = _csr_cases()[case]
    with pytest.raises(ValidationError) as error:
        certificates.request_certificate(customer=customer, by=owner, names=NAMES, csr_pem=csr, now=NOW)
    assert fragment in " ".join(error.value.message_dict["csr_pem"])
    assert not CertificateRequest.objects.exists()


@pytest.mark.django_db
def test_rsa_of_2048_bits_and_p_384_csrs_are_accepted(customer, owner):
    for key in (cached_key("rsa-ok"), cached_key("p384-ok")):
        certificates.request_certificate(customer=customer, by=owner, names=NAMES, csr_pem=make_csr(key, NAMES))
    assert CertificateRequest.objects.filter(key_source="customer_csr").count() == 2


# The request page


@pytest.mark.django_db
def test_a_renewal_of_a_request_that_is_not_a_number_shows_a_new_request(owner_client):
    # Found by tests/security/test_fuzz_forms.py: "²".isdigit() is true, int("²") raises.
    assert owner_client.get(reverse("certificate_new"), {"renew": "²"}).status_code == 200


@pytest.mark.django_db
def test_the_request_form_offers_the_customers_domains_and_adds_one_in_place(owner_client, customer):
    ServiceFactory(customer=customer, name="acme.be", plan=PlanFactory(kind=Kind.DOMAIN))
    page = owner_client.get(reverse("certificate_new")).content.decode()
    assert '<option value="acme.be">acme.be</option>' in page
    fragment = owner_client.get(
        reverse("certificate_new"), {"domain": "acme.be", "names": "mail.acme.example"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert fragment.lstrip().startswith('<div id="names-field">')
    assert "mail.acme.example\nacme.be\nwww.acme.be</textarea>" in fragment
    # Without JavaScript the helper form carries the names typed so far.
    page = owner_client.get(reverse("certificate_new"), {"domain": "acme.be", "current_names": "x.example"})
    assert "x.example\nacme.be\nwww.acme.be</textarea>" in page.content.decode()
    # Another customer's domain is not added.
    other = owner_client.get(reverse("certificate_new"), {"domain": "globex.be", "current_names": ""})
    assert "<textarea" in other.content.decode() and "globex.be</textarea>" not in other.content.decode()


@pytest.mark.django_db
def test_requesting_through_the_page_opens_the_request(owner_client, ssl_plan, reauthenticated):
    response = owner_client.post(
        reverse("certificate_new"),
        {"names": "www.acme.example\nacme.example", "key_source": "generated", "key_type": "rsa2048",
         "plan": ssl_plan.pk},
    )  # fmt: skip
    request = CertificateRequest.objects.get()
    assert response.status_code == 302 and response.url == request.get_absolute_url()
    assert request.names == ["www.acme.example", "acme.example"] and request.plan == ssl_plan
    page = owner_client.get(response.url).content.decode()
    assert "Download it now" in page and "Requested" in page


@pytest.mark.django_db
def test_the_request_page_shows_each_problem_at_its_field(owner_client, ssl_plan, reauthenticated):
    response = owner_client.post(
        reverse("certificate_new"),
        {"names": "192.0.2.1\nok.example\nok.example", "key_source": "generated", "key_type": "rsa2048",
         "plan": ssl_plan.pk},
    )  # fmt: skip
    body = response.content.decode()
    assert response.status_code == 200 and 'id="names-error"' in body
    assert "192.0.2.1 is an IP address" in body and "ok.example is listed twice" in body
    response = owner_client.post(
        reverse("certificate_new"),
        {"names": "", "key_source": "customer_csr", "csr_pem": key_pem(cached_key("p256-c")), "plan": ssl_plan.pk},
    )
    assert 'id="csr-error"' in response.content.decode() and "never send it" in response.content.decode()
    assert not CertificateRequest.objects.exists()


@pytest.mark.django_db
def test_requesting_asks_for_the_password_again(owner_client, ssl_plan):
    response = owner_client.post(
        reverse("certificate_new"), {"names": "a.example", "key_source": "generated", "plan": ssl_plan.pk}
    )
    assert response.status_code == 302 and response.url.startswith(reverse("account_reauthenticate"))
    assert not CertificateRequest.objects.exists()


# States, timeline, e-mails


@pytest.mark.django_db
def test_art_5_1_1_staff_ask_for_information_and_the_customer_answers_with_documents(
    cert_request, owner_client, staff_user, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        certificates.set_status(request=cert_request, status=Status.VALIDATING, by=staff_user, now=NOW)
    with pytest.raises(ValidationError, match="what the certificate authority needs"):
        certificates.set_status(request=cert_request, status=Status.INFORMATION_REQUESTED, by=staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        certificates.set_status(
            request=cert_request, status=Status.INFORMATION_REQUESTED, by=staff_user, now=NOW,
            message="The CA needs proof of the trade name Acme Shop.",
        )  # fmt: skip
    assert subjects() == [
        "[Certificate shop.acme.example] Now: Validating",
        "[Certificate shop.acme.example] Now: Information requested",
    ]
    assert "proof of the trade name Acme Shop" in mail.outbox[1].body
    page = owner_client.get(cert_request.get_absolute_url()).content.decode()
    assert "proof of the trade name Acme Shop" in page and 'id="answer-form"' in page

    proof = SimpleUploadedFile("kbo-extract.pdf", b"%PDF-1.4 proof", content_type="application/pdf")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("certificate_answer", args=[cert_request.pk]), {"body": "Here is the extract.", "files": [proof]}
        )
    assert response.status_code == 302
    cert_request.refresh_from_db()
    assert cert_request.status == Status.VALIDATING  # back where it was before the question
    answer = cert_request.messages.get(document_name="kbo-extract.pdf")
    assert (answer.body, answer.by_staff, answer.old_status, answer.new_status) == (
        "Here is the extract.", False, Status.INFORMATION_REQUESTED, Status.VALIDATING
    )  # fmt: skip
    assert subjects() == [
        "[Certificate shop.acme.example] Now: Validating",
        "[Certificate shop.acme.example] The customer answered",
    ]
    download = owner_client.get(reverse("certificate_document", args=[cert_request.pk, answer.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 proof"
    timeline = [(m.old_status, m.new_status) for m in cert_request.messages.all()]
    assert timeline == [
        ("", Status.REQUESTED),
        (Status.REQUESTED, Status.VALIDATING),
        (Status.VALIDATING, Status.INFORMATION_REQUESTED),
        (Status.INFORMATION_REQUESTED, Status.VALIDATING),
    ]


@pytest.mark.django_db
def test_an_answer_needs_text_or_an_accepted_document(cert_request, owner_client, staff_user):
    certificates.set_status(request=cert_request, status=Status.INFORMATION_REQUESTED, by=staff_user, message="?")
    url = reverse("certificate_answer", args=[cert_request.pk])
    assert "Write your answer or attach a document." in owner_client.post(url, {"body": " "}).content.decode()
    program = SimpleUploadedFile("proof.exe", b"MZ", content_type="application/octet-stream")
    response = owner_client.post(url, {"body": "x", "files": [program]})
    assert response.status_code == 200 and "type of file is not accepted" in response.content.decode()
    fragment = owner_client.post(url, {"body": ""}, headers={"HX-Request": "true"})
    assert fragment.content.decode().lstrip().startswith('<form id="answer-form"')
    assert fragment["HX-Retarget"] == "#answer-form"
    cert_request.refresh_from_db()
    assert cert_request.status == Status.INFORMATION_REQUESTED


@pytest.mark.django_db
def test_staff_set_only_the_states_the_ca_decides(cert_request, staff_user):
    for status, fragment in [
        (Status.ISSUED, "Upload the issued certificate"),
        (Status.REVOKED, "Record the revocation"),
        (Status.REPLACED, "renewal's certificate is installed"),
    ]:
        with pytest.raises(ValidationError, match=fragment):
            certificates.set_status(request=cert_request, status=status, by=staff_user)
    with pytest.raises(ValidationError, match="why"):
        certificates.set_status(request=cert_request, status=Status.REJECTED, by=staff_user)
    certificates.set_status(request=cert_request, status=Status.REJECTED, by=staff_user, message="No such company.")
    with pytest.raises(ValidationError, match="has decided"):
        certificates.set_status(request=cert_request, status=Status.VALIDATING, by=staff_user)
    certificates.set_status(request=cert_request, status=Status.REJECTED, by=staff_user, message="A note.")
    assert cert_request.messages.last().body == "A note." and cert_request.messages.last().new_status == ""


@pytest.mark.django_db
def test_a_customer_withdraws_a_request_under_way_and_staff_are_told(
    cert_request, owner_client, staff_user, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("certificate_withdraw", args=[cert_request.pk]), follow=True)
    assert "The request is withdrawn." in response.content.decode()
    cert_request.refresh_from_db()
    assert cert_request.status == Status.REJECTED
    assert "Withdrawn: cancel it at the certificate authority" in " ".join(subjects())


class ValidatingAuthority(ManualCertificateAuthority):
    def submit(self, request):
        return Outcome(status=Status.VALIDATING, message="Order 42 placed at the CA.")


@pytest.mark.django_db
def test_the_ca_backend_comes_from_the_settings_and_its_answer_moves_the_request(customer, owner, settings):
    assert isinstance(get_certificate_authority(), ManualCertificateAuthority)
    manual = certificates.request_certificate(customer=customer, by=owner, names=["a.example"], key_type="ec256")
    assert manual.status == Status.REQUESTED  # the manual backend pretends nothing
    settings.CERTIFICATE_AUTHORITY_BACKEND = f"{__name__}.ValidatingAuthority"
    request = certificates.request_certificate(customer=customer, by=owner, names=["b.example"], key_type="ec256")
    assert request.status == Status.VALIDATING
    assert request.messages.last().body == "Order 42 placed at the CA."


# Installing the issued certificate


@pytest.mark.django_db
def test_art_5_2_1_the_contract_lasts_the_certificates_validity(
    cert_request, owner, ssl_plan, django_capture_on_commit_callbacks
):
    not_before = datetime.datetime(2026, 5, 31, 23, 30, tzinfo=datetime.UTC)  # 1 June in Brussels
    not_after = datetime.datetime(2027, 6, 1, 21, 59, tzinfo=datetime.UTC)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        certificate = installed(cert_request, owner, not_before=not_before, not_after=not_after)
    cert_request.refresh_from_db()
    assert cert_request.status == Status.ISSUED
    assert (certificate.not_before, certificate.not_after) == (not_before, not_after)
    assert (
        certificate.names == NAMES and certificate.key_type == "EC P-256" and certificate.issuer == "CN=Test Issuing CA"
    )
    assert certificate.chain_pem.count("BEGIN CERTIFICATE") == 2
    service = cert_request.service
    assert (service.plan, service.status, service.customer) == (ssl_plan, Service.Status.ACTIVE, cert_request.customer)
    assert (service.started_on, service.current_period_end) == (datetime.date(2026, 6, 1), datetime.date(2027, 6, 1))
    assert service.name == "shop.acme.example" and not service.auto_renew
    assert list(service.events.values_list("field", flat=True)) == [
        ServiceEvent.Field.CREATED,
        ServiceEvent.Field.PERIOD,
    ]
    assert subjects() == ["[Certificate shop.acme.example] Now: Issued"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"key": cached_key("p256-wrong")}, "does not match the private key"),
        ({"names": ["shop.acme.example"]}, "lacks requested names: acme.example"),
        ({"names": [*NAMES, "evil.example"]}, "names that were not requested: evil.example"),
        ({"not_before": NOW - 400 * DAY, "not_after": NOW - DAY}, "expired on"),
        ({"not_before": NOW + DAY, "not_after": NOW + 300 * DAY}, "not valid yet"),
    ],
)
def test_installing_refuses_a_certificate_with_problems(cert_request, owner, options, fragment):
    pem, chain = issue(cert_request, **options)
    with pytest.raises(ValidationError) as error:
        certificates.install_certificate(request=cert_request, pem=pem, chain=chain, by=owner, now=NOW)
    assert fragment in " ".join(error.value.message_dict["pem"])
    cert_request.refresh_from_db()
    assert cert_request.status == Status.REQUESTED and not Certificate.objects.exists() and not Service.objects.exists()


@pytest.mark.django_db
def test_a_customers_csr_request_checks_the_certificate_against_its_csr(csr_request, owner):
    pem, chain = issue(csr_request, key=cached_key("rsa-other"))
    with pytest.raises(ValidationError, match="request's CSR"):
        certificates.install_certificate(request=csr_request, pem=pem, chain=chain, by=owner, now=NOW)
    certificate = installed(csr_request, owner)
    assert (certificate.key_type, certificate.key_size) == ("RSA", 2048)


@pytest.mark.django_db
def test_the_upload_form_shows_inspects_problems_at_each_field(cert_request, owner_client, frozen):
    pem, _chain = issue(cert_request, key=cached_key("p256-wrong"))
    unrelated = to_pem(make_pki(["x.example"]).root)
    response = owner_client.post(
        reverse("certificate_upload", args=[cert_request.pk]), {"pem": pem, "chain": unrelated}
    )
    body = response.content.decode()
    assert response.status_code == 200
    pem_errors = body.split('id="pem-error"')[1].split("</ul>")[0]
    chain_errors = body.split('id="chain-error"')[1].split("</ul>")[0]
    assert "does not match the private key" in pem_errors
    assert "does not lead to the certificate&#x27;s issuer" in chain_errors
    assert not Certificate.objects.exists()


@pytest.mark.django_db
def test_an_htmx_upload_with_problems_swaps_the_form_only(cert_request, owner_client, frozen):
    response = owner_client.post(
        reverse("certificate_upload", args=[cert_request.pk]), {"pem": "garbage"}, headers={"HX-Request": "true"}
    )
    assert response.content.decode().lstrip().startswith('<form id="upload-form"')
    assert response["HX-Retarget"] == "#upload-form" and response["HX-Reswap"] == "outerHTML"


def _garbage_uploads():
    key = cached_key("p256-g")
    der = x509.load_pem_x509_certificate(to_pem(make_pki(["g.example"]).leaf).encode()).public_bytes(
        serialization.Encoding.DER
    )
    pem = to_pem(make_pki(["g.example"]).leaf)
    return {
        "random bytes file": {"pem_file": SimpleUploadedFile("cert.pem", bytes(range(256)) * 4)},
        "empty": {"pem": ""},
        "a csr": {"pem": make_csr(key, NAMES)},
        "a private key": {"pem": key_pem(key)},
        "a truncated pem": {"pem": pem[:300]},
        "a der file": {"pem_file": SimpleUploadedFile("cert.der", der)},
        "a der chain file": {"pem": pem, "chain_file": SimpleUploadedFile("chain.der", der)},
        "nul bytes": {"pem": "\x00\x00"},
        "a huge file": {"pem_file": SimpleUploadedFile("big.pem", b"A" * 300_000)},
        "unicode": {"pem": "-----BEGIN CERTIFICATE-----\n😀\n-----END CERTIFICATE-----", "chain": "ü"},
    }


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(_garbage_uploads()))
def test_garbage_posted_to_the_upload_form_is_reported_never_a_500(cert_request, owner_client, frozen, case):
    response = owner_client.post(reverse("certificate_upload", args=[cert_request.pk]), _garbage_uploads()[case])
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert not Certificate.objects.exists()


@pytest.mark.django_db
def test_the_certificate_can_be_uploaded_as_files(cert_request, owner_client, frozen):
    pem, chain = issue(cert_request)
    response = owner_client.post(
        reverse("certificate_upload", args=[cert_request.pk]),
        {
            "pem_file": SimpleUploadedFile("cert.pem", pem.encode()),
            "chain_file": SimpleUploadedFile("ca.pem", chain.encode()),
        },
    )
    assert response.status_code == 302
    page = owner_client.get(cert_request.get_absolute_url()).content.decode()
    assert "Test Issuing CA" in page and "364 days left" in page and "EC P-256" in page


# Renewal (art. 5.2.2) and revocation (art. 5.1.1)


@pytest.mark.django_db
def test_art_5_2_2_request_renewal_starts_a_new_request_for_the_same_names(
    cert_request, owner, owner_client, reauthenticated, frozen
):
    old_certificate = installed(cert_request, owner, not_after=NOW + 20 * DAY)
    page = owner_client.get(cert_request.get_absolute_url()).content.decode()
    renew_url = f"{reverse('certificate_new')}?renew={cert_request.pk}"
    assert f'href="{renew_url}"' in page
    form = owner_client.get(renew_url).content.decode()
    assert "shop.acme.example\nacme.example</textarea>" in form and f'name="replaces" value="{cert_request.pk}"' in form
    response = owner_client.post(
        reverse("certificate_new"),
        {"names": "shop.acme.example\nacme.example", "key_source": "generated", "key_type": "ec256",
         "plan": cert_request.plan_id, "replaces": cert_request.pk},
    )  # fmt: skip
    renewal = CertificateRequest.objects.exclude(pk=cert_request.pk).get()
    assert response.url == renewal.get_absolute_url()
    assert (renewal.replaces, renewal.names, renewal.status) == (cert_request, NAMES, Status.REQUESTED)
    assert renewal.csr_pem != cert_request.csr_pem  # a new key
    with pytest.raises(ValidationError, match="already under way"):
        certificates.request_certificate(customer=cert_request.customer, by=owner, names=NAMES, replaces=cert_request)

    installed(renewal, owner)
    cert_request.refresh_from_db()
    renewal.refresh_from_db()
    assert (cert_request.status, renewal.status) == (Status.REPLACED, Status.ISSUED)
    assert renewal.service != cert_request.service  # a new contract for the new certificate's validity
    assert cert_request.service.current_period_end == timezone.localtime(old_certificate.not_after).date()
    assert "Renewed or replaced by" in owner_client.get(cert_request.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_only_an_issued_certificate_can_be_renewed(cert_request, owner, other_customer):
    with pytest.raises(ValidationError, match="Only an issued certificate"):
        certificates.request_certificate(customer=cert_request.customer, by=owner, names=NAMES, replaces=cert_request)
    installed(cert_request, owner)
    with pytest.raises(ValidationError, match="one of your certificates"):
        certificates.request_certificate(customer=other_customer, by=owner, names=NAMES, replaces=cert_request)


@pytest.mark.django_db
def test_art_5_1_1_a_revocation_not_due_to_the_customer_opens_the_replacement(
    cert_request, owner, staff_user, django_capture_on_commit_callbacks
):
    certificate = installed(cert_request, owner)
    cert_request.refresh_from_db()
    contract = cert_request.service
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        replacement = certificates.record_revocation(
            certificate=certificate, by=staff_user, customer_fault=False, reason="The CA mis-issued a batch", now=NOW
        )
    cert_request.refresh_from_db()
    certificate.refresh_from_db()
    assert cert_request.status == Status.REVOKED
    assert (certificate.revoked_at, certificate.revoked_by_customer_fault) == (NOW, False)
    assert (replacement.replaces, replacement.names, replacement.key_source) == (cert_request, NAMES, "generated")
    assert replacement.status == Status.REQUESTED and replacement.csr_pem != cert_request.csr_pem
    assert replacement.service == contract and cert_request.service is None  # the same contract goes on
    revoked_mail = next(m for m in mail.outbox if "Now: Revoked" in m.subject)
    assert "not your fault" in revoked_mail.body and replacement.get_absolute_url() in revoked_mail.body
    # The replacement's certificate renews the contract's period; the revoked request stays revoked.
    installed(replacement, owner, not_after=NOW + 500 * DAY)
    cert_request.refresh_from_db()
    contract.refresh_from_db()
    assert cert_request.status == Status.REVOKED
    assert contract.current_period_end == (NOW + 500 * DAY).date() and contract.status == Service.Status.ACTIVE


@pytest.mark.django_db
def test_a_revocation_through_the_customers_fault_opens_nothing_and_ends_the_contract(cert_request, owner, staff_user):
    certificate = installed(cert_request, owner)
    assert certificates.record_revocation(
        certificate=certificate, by=staff_user, customer_fault=True, reason="Key published on GitHub", now=NOW
    ) is None  # fmt: skip
    cert_request.refresh_from_db()
    assert cert_request.status == Status.REVOKED and CertificateRequest.objects.count() == 1
    assert cert_request.service.status == Service.Status.ENDED
    with pytest.raises(ValidationError, match="only once"):
        certificates.record_revocation(certificate=certificate, by=staff_user, customer_fault=True, reason="again")


@pytest.mark.django_db
def test_a_replacement_for_a_customers_csr_asks_for_a_new_csr(csr_request, owner, owner_client, staff_user):
    certificate = installed(csr_request, owner)
    replacement = certificates.record_revocation(
        certificate=certificate, by=staff_user, customer_fault=False, reason="CA incident", now=NOW
    )
    assert replacement.status == Status.INFORMATION_REQUESTED and replacement.csr_pem == ""
    assert "new certificate signing request" in replacement.messages.last().body
    page = owner_client.get(replacement.get_absolute_url()).content.decode()
    assert 'id="id_answer_csr"' in page and 'id="upload-form"' not in page
    url = reverse("certificate_answer", args=[replacement.pk])
    assert "Paste the new certificate signing request" in owner_client.post(url, {"body": "hi"}).content.decode()
    wrong = make_csr(cached_key("rsa-new"), ["other.example"])
    assert "lacks names you requested" in owner_client.post(url, {"csr_pem": wrong}).content.decode()
    good = make_csr(cached_key("rsa-new"), NAMES)
    assert owner_client.post(url, {"csr_pem": good}).status_code == 302
    replacement.refresh_from_db()
    assert replacement.status == Status.REQUESTED and "BEGIN CERTIFICATE REQUEST" in replacement.csr_pem
    assert installed(replacement, owner).key_type == "RSA"


# The integration intervention (art. 5.1.2)


@pytest.mark.django_db
def test_art_5_1_2_the_certificate_page_offers_the_integration_ticket_with_its_price(cert_request, owner, owner_client):
    certificate = installed(cert_request, owner)
    cert_request.refresh_from_db()
    page = owner_client.get(cert_request.get_absolute_url()).content.decode()
    assert "Standard — free" in page and "Express — 3 credits per started 15 minutes" in page
    response = owner_client.post(
        reverse("certificate_integration", args=[cert_request.pk]), {"priority": "express", "notes": "On www."}
    )
    ticket = Ticket.objects.get()
    assert response.url == ticket.get_absolute_url()
    assert (ticket.reason.code, ticket.priority, ticket.service) == (
        "ssl-hosting-integration", "express", cert_request.service
    )  # fmt: skip
    assert "shop.acme.example" in ticket.subject
    assert certificate.serial_number in ticket.description and "On www." in ticket.description
    assert ticket.number in cert_request.messages.last().body


@pytest.mark.django_db
def test_integration_needs_an_issued_certificate_and_the_right_to_open_tickets(
    cert_request, owner, owner_client, billing_member
):
    response = owner_client.post(
        reverse("certificate_integration", args=[cert_request.pk]), {"priority": "standard"}, follow=True
    )
    assert response.status_code == 200 and "Only an issued certificate" in response.content.decode()
    installed(cert_request, owner)
    client = client_for(billing_member)
    assert "Open the integration ticket" not in client.get(cert_request.get_absolute_url()).content.decode()
    assert (
        client.post(reverse("certificate_integration", args=[cert_request.pk]), {"priority": "standard"}).status_code
        == 403
    )
    assert not Ticket.objects.exists()


# The list


@pytest.mark.django_db
def test_the_certificates_page_lists_names_expiry_days_left_and_state(cert_request, owner, owner_client, frozen):
    installed(cert_request, owner, not_after=NOW + 10 * DAY)
    certificates.request_certificate(customer=cert_request.customer, by=owner, names=["new.acme.example"],
                                     key_type="ec256")  # fmt: skip
    body = owner_client.get(reverse("certificate_list")).content.decode()
    assert "shop.acme.example" in body and "new.acme.example" in body
    assert "<strong>10</strong>" in body and "Issued" in body and "Requested" in body
    assert "June 11, 2026" in body
    fragment = owner_client.get(reverse("certificate_list"), {"status": "issued"}, headers={"HX-Request": "true"})
    assert fragment.content.decode().lstrip().startswith('<div id="certificate-table"')
    assert "new.acme.example" not in fragment.content.decode()


@pytest.mark.django_db
def test_the_certificates_list_query_count_does_not_grow(customer, owner, owner_client, django_assert_max_num_queries):
    def add(count: int):
        for i in range(count):
            request = CertificateRequest.objects.create(
                customer=customer, names=[f"h{i}.example"], key_source="customer_csr", csr_pem="x", status="issued"
            )
            Certificate.objects.create(
                request=request, pem="x", subject="CN=x", issuer="CN=y", serial_number="01", names=request.names,
                not_before=NOW, not_after=NOW + 90 * DAY, key_type="RSA", key_size=2048,
            )  # fmt: skip

    add(3)
    owner_client.get(reverse("certificate_list"))
    with django_assert_max_num_queries(15) as small:
        owner_client.get(reverse("certificate_list"))
    add(30)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = owner_client.get(reverse("certificate_list"))
    assert "Page 1 of 2" in response.content.decode()


@pytest.mark.django_db
def test_the_navigation_leads_to_the_certificates_page(owner_client):
    body = owner_client.get(reverse("certificate_list")).content.decode()
    assert f'<a href="{reverse("certificate_list")}" aria-current="page">Certificates</a>' in body


# The admin


@pytest.fixture
def admin_client(staff_user, settings):
    settings.PORTAL_ADMIN_REQUIRE_MFA = False
    return client_for(staff_user)


@pytest.mark.django_db
def test_staff_fulfil_a_request_in_the_admin(cert_request, admin_client, frozen):
    assert (
        "shop.acme.example"
        in admin_client.get(reverse("admin:services_certificaterequest_changelist")).content.decode()
    )
    page = admin_client.get(
        reverse("admin:services_certificaterequest_change", args=[cert_request.pk])
    ).content.decode()
    assert "Set the status" in page and "Install the certificate" in page
    assert crypto.decrypt(cert_request.private_key_encrypted) not in page  # the key is never shown

    status_url = reverse("admin:services_certificaterequest_status", args=[cert_request.pk])
    response = admin_client.post(status_url, {"status": "information_requested", "message": ""})
    assert response.status_code == 200 and "what the certificate authority needs" in response.content.decode()
    response = admin_client.post(status_url, {"status": "validating", "message": "Filed with the CA."})
    assert response.status_code == 302

    install_url = reverse("admin:services_certificaterequest_install", args=[cert_request.pk])
    response = admin_client.post(install_url, {"pem": key_pem(cached_key("p256-x")), "chain": ""})
    assert response.status_code == 200 and "private key" in response.content.decode()
    pem, chain = issue(cert_request)
    assert admin_client.post(install_url, {"pem": pem, "chain": chain}).status_code == 302
    cert_request.refresh_from_db()
    assert cert_request.status == Status.ISSUED and cert_request.messages.filter(by_staff=True).count() >= 2

    revocation_url = reverse("admin:services_certificaterequest_revocation", args=[cert_request.pk])
    response = admin_client.post(revocation_url, {"customer_fault": "no", "reason": "CA incident"})
    assert response.status_code == 302
    assert CertificateRequest.objects.get(replaces=cert_request).status == Status.REQUESTED
    certificate = Certificate.objects.get()
    assert admin_client.get(reverse("admin:services_certificate_change", args=[certificate.pk])).status_code == 200
    assert admin_client.post(reverse("admin:services_certificate_delete", args=[certificate.pk])).status_code == 403
