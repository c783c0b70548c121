"""SSL certificates (art. 5): requests to a certificate authority, their states and timeline,
checking and installing the issued certificate, revocations and renewals.

Every change goes through one function here, atomic, kept in the request's timeline
(``CertificateRequestMessage``), mailed to the customer and recorded in the audit log. Views,
the admin and the demo call these; none of them changes a request by itself.

``inspect`` is the one place that reads certificates: it never raises for bad input, it lists
the problems it finds, each with a message a customer can act on.
"""

import datetime
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Customer, User
from accounts.roles import PERMISSIONS, Permission
from portal import audit, crypto, mail
from services import lifecycle
from services.certificate_authority import get_certificate_authority
from services.models import Certificate, CertificateRequest, CertificateRequestMessage, Kind, Plan, Service

Status = CertificateRequest.Status
KeySource = CertificateRequest.KeySource

KEY_TYPES = {"rsa2048": gettext_lazy("RSA, 2048 bits"), "ec256": gettext_lazy("ECDSA, curve P-256")}
MAX_NAMES = 100
MIN_RSA_BITS = 2048
ACCEPTED_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384"}
# The CA has not decided yet: staff move these along, the customer may upload the issued certificate.
OPEN_STATUSES = frozenset({Status.REQUESTED, Status.VALIDATING, Status.INFORMATION_REQUESTED})
# What staff set by hand; issued, revoked and replaced follow from installing and revoking.
STAFF_STATUSES = frozenset({*OPEN_STATUSES, Status.REJECTED})
INTEGRATION_REASON = "ssl-hosting-integration"  # annex 1 (art. 5.1.2)


# Names


_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_SEPARATORS = re.compile(r"[\s,;]+")


def normalize_name(raw: str) -> str:
    """One DNS host name as certificates carry it: lower case, IDN in punycode, a wildcard only as
    "*.example.com". Raises ``ValidationError`` with a message that names it."""
    shown = raw.strip()[:300]
    name = shown.lower().rstrip(".")
    params = {"name": shown}
    if "://" in name or "/" in name:
        raise ValidationError(_("%(name)s: enter the host name only, without https:// or a path."), params=params)
    wildcard = name.startswith("*.")
    base = name[2:] if wildcard else name
    if "*" in base:
        raise ValidationError(
            _("%(name)s: a wildcard is only allowed as the whole first label, as in *.example.com."), params=params
        )
    try:
        ipaddress.ip_address(base.strip("[]"))
    except ValueError:
        pass
    else:
        raise ValidationError(_("%(name)s is an IP address: certificates here are for host names."), params=params)
    try:
        ascii_name = base.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValidationError(_("%(name)s is not a valid host name."), params=params) from None
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValidationError(
            _("%(name)s is not a valid host name: use letters, digits and hyphens between the dots."), params=params
        )
    if len(labels) < 2 or labels[-1].isdigit():
        raise ValidationError(_("%(name)s is not a complete host name, such as www.example.com."), params=params)
    return f"*.{ascii_name}" if wildcard else ascii_name


def validate_names(names: Iterable[str] | str) -> list[str]:
    """The names of a request in the customer's order, each normalised; one message per bad name."""
    if isinstance(names, str):
        names = _SEPARATORS.split(names)
    names = [str(raw) for raw in names if str(raw).strip()]
    if len(names) > MAX_NAMES:
        raise ValidationError({"names": _("A certificate holds at most %(max)d names; you entered %(count)d.") % {
            "max": MAX_NAMES, "count": len(names)
        }})  # fmt: skip
    errors, result, seen = [], [], set()
    for raw in names:
        try:
            name = normalize_name(raw)
        except ValidationError as error:
            errors.extend(error.messages)
            continue
        if name in seen:
            errors.append(_("%(name)s is listed twice.") % {"name": name})
            continue
        seen.add(name)
        result.append(name)
    if not result and not errors:
        errors.append(_("Enter at least one host name, such as www.example.com."))
    if errors:
        raise ValidationError({"names": errors})
    return result


def _clean(name: str) -> str:
    return name.strip().lower().rstrip(".")


def _join(names: Iterable[str]) -> str:
    return ", ".join(sorted(names))


# Reading PEM text (certificates, CSRs, keys) without ever raising on what a customer pastes


_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]{1,40})-----\s*(.*?)\s*-----END \1-----", re.DOTALL)
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _as_text(data) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes | bytearray | memoryview):
        data = bytes(data)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    return str(data)


def _blocks(text: str) -> list[tuple[str, str]]:
    """(label, the whole block) of each PEM block, in order."""
    return [(m.group(1), m.group(0)) for m in _PEM_BLOCK.finditer(text)]


def _unreadable(text: str, what: str) -> str:
    """Why ``text`` holds no PEM block at all; ``what`` is the block the customer should paste."""
    if not text.strip():
        return _("It is empty.")
    if _BINARY.search(text):
        return _(
            "This is a binary file (DER format, perhaps), not PEM text: upload the text form that starts "
            "with -----BEGIN %(what)s-----."
        ) % {"what": what}
    if "-----BEGIN" in text:
        return _(
            "The text is incomplete: it must run whole from -----BEGIN %(what)s----- to -----END %(what)s-----."
        ) % {"what": what}
    return _("This is not PEM text: it should start with -----BEGIN %(what)s-----.") % {"what": what}


def _is_private_key(label: str) -> bool:
    return label.endswith("PRIVATE KEY")


def _is_csr(label: str) -> bool:
    return label in {"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"}


def _spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _key_description(public_key) -> tuple[str, int]:
    if isinstance(public_key, rsa.RSAPublicKey):
        return "RSA", public_key.key_size
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        curve = public_key.curve
        return f"EC {ACCEPTED_CURVES.get(curve.name, curve.name)}"[:20], curve.key_size
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(public_key, ed448.Ed448PublicKey):
        return "Ed448", 456
    if isinstance(public_key, dsa.DSAPublicKey):
        return "DSA", public_key.key_size
    return type(public_key).__name__[:20], 0


def _names_of(subject: x509.Name, extensions: x509.Extensions) -> list[str]:
    """SAN DNS names, or the common name when there are none; lower case, in order."""
    try:
        san = extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [_clean(n) for n in san.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        names = []
    if not names:
        names = [_clean(str(a.value)) for a in subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return list(dict.fromkeys(n for n in names if n))


def _when(value: datetime.datetime) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


# inspect


@dataclass(frozen=True)
class Problem:
    """One thing wrong; ``field`` says what it is about: "certificate", "key" or "chain"."""

    field: str
    code: str
    message: str


@dataclass
class Inspection:
    """What ``inspect`` read from a certificate, and what is wrong with it."""

    subject: str = ""
    names: list[str] = field(default_factory=list)
    issuer: str = ""
    serial: str = ""
    not_before: datetime.datetime | None = None
    not_after: datetime.datetime | None = None
    key_type: str = ""
    key_size: int = 0
    problems: list[Problem] = field(default_factory=list)
    pem: str = field(default="", repr=False)  # the certificate's block, as stored
    chain_pem: str = field(default="", repr=False)  # the chain's blocks, the leaf left out

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def parsed(self) -> bool:
        return self.not_after is not None

    def problems_for(self, *fields: str) -> list[str]:
        return [p.message for p in self.problems if p.field in fields]

    def add(self, field_name: str, code: str, message: str) -> None:
        self.problems.append(Problem(field_name, code, str(message)))


def _load_certificate(text: str, result: Inspection) -> x509.Certificate | None:
    blocks = _blocks(text)
    certificates = [block for label, block in blocks if label in {"CERTIFICATE", "X509 CERTIFICATE"}]
    labels = {label for label, _block in blocks}
    if not text.strip():
        result.add("certificate", "empty", _("Paste the certificate or choose its file."))
        return None
    if any(_is_private_key(label) for label in labels):
        result.add(
            "certificate", "private_key",
            _("This contains a private key. Paste only the certificate, and keep the private key to yourself."),
        )  # fmt: skip
        if not certificates:
            return None
    if not certificates:
        if any(_is_csr(label) for label in labels):
            message = _(
                "This is a certificate signing request (CSR), not a certificate. The certificate authority "
                "sends the certificate once it has issued it."
            )
            result.add("certificate", "csr", message)
        elif blocks:
            result.add("certificate", "not_certificate", _("This is not a certificate (found: %(labels)s).") % {
                "labels": ", ".join(sorted(labels))
            })  # fmt: skip
        else:
            result.add("certificate", "unparsable", _unreadable(text, "CERTIFICATE"))
        return None
    if len(certificates) > 1:
        result.add(
            "certificate", "several",
            _("This holds %(count)d certificates where one is expected: put your certificate here and the "
              "intermediate certificates in the chain.") % {"count": len(certificates)},
        )  # fmt: skip
        return None
    try:
        certificate = x509.load_pem_x509_certificate(certificates[0].encode("ascii"))
    except (ValueError, UnicodeError, UnsupportedAlgorithm):
        result.add("certificate", "unparsable", _("The certificate could not be read: it is damaged or incomplete."))
        return None
    result.pem = certificates[0] + "\n"
    return certificate


def _public_key_to_match(key, result: Inspection):
    """The public key the certificate must carry, from a private key, a CSR or a public key (PEM or
    objects); None, with a problem, when it cannot be read."""
    if isinstance(key, x509.CertificateSigningRequest):
        return key.public_key(), "csr"
    if hasattr(key, "private_bytes") and hasattr(key, "public_key"):
        return key.public_key(), "key"
    if hasattr(key, "public_bytes") and not isinstance(key, str | bytes):
        return key, "key"
    text = _as_text(key)
    blocks = _blocks(text)
    try:
        for label, block in blocks:
            if label == "ENCRYPTED PRIVATE KEY":
                break
            if _is_private_key(label):
                return serialization.load_pem_private_key(block.encode("ascii"), password=None).public_key(), "key"
            if _is_csr(label):
                return x509.load_pem_x509_csr(block.encode("ascii")).public_key(), "csr"
            if label == "PUBLIC KEY":
                return serialization.load_pem_public_key(block.encode("ascii")), "key"
    except TypeError:
        pass  # a password-protected key
    except (ValueError, UnicodeError, UnsupportedAlgorithm):
        result.add("key", "key_unparsable", _("The private key could not be read: it is damaged or incomplete."))
        return None, ""
    if any(label == "ENCRYPTED PRIVATE KEY" or "ENCRYPTED" in block for label, block in blocks):
        result.add("key", "key_encrypted", _("The private key is protected by a password: remove the password."))
    else:
        result.add("key", "key_unparsable", _("The private key could not be read: %(why)s") % {
            "why": _unreadable(text, "PRIVATE KEY")
        })  # fmt: skip
    return None, ""


def _load_chain(text: str, result: Inspection) -> list[x509.Certificate]:
    blocks = _blocks(text)
    if not blocks:
        result.add("chain", "chain_unparsable", _("The chain could not be read: %(why)s") % {
            "why": _unreadable(text, "CERTIFICATE")
        })  # fmt: skip
        return []
    if any(label not in {"CERTIFICATE", "X509 CERTIFICATE"} for label, _block in blocks):
        result.add("chain", "chain_not_certificates", _("The chain may hold certificates only, nothing else."))
        return []
    chain = []
    for position, (_label, block) in enumerate(blocks, start=1):
        try:
            chain.append(x509.load_pem_x509_certificate(block.encode("ascii")))
        except (ValueError, UnicodeError, UnsupportedAlgorithm):
            result.add("chain", "chain_unparsable", _(
                "Certificate %(position)d of the chain could not be read: it is damaged or incomplete."
            ) % {"position": position})  # fmt: skip
            return []
    return chain


def _check_chain(certificate: x509.Certificate, chain: list[x509.Certificate], result: Inspection) -> None:
    """Each certificate must be issued (named and signed) by the next one."""
    if chain and chain[0] == certificate:
        chain = chain[1:]  # the whole "fullchain" pasted as the chain: the leaf is already there
    for position, (child, parent) in enumerate(pairwise([certificate, *chain])):
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            params = {
                "issuer": child.issuer.rfc4514_string(), "next": parent.subject.rfc4514_string(),
                "subject": child.subject.rfc4514_string(),
            }  # fmt: skip
            if position == 0:
                message = (
                    _(
                        "The chain does not lead to the certificate's issuer: the certificate was issued by "
                        "%(issuer)s, but the chain starts with %(next)s."
                    )
                    % params
                )
            else:
                message = (
                    _(
                        "The chain is broken after %(subject)s: it was issued by %(issuer)s, but the next "
                        "certificate of the chain is %(next)s (or its signature does not match)."
                    )
                    % params
                )
            result.add("chain", "chain_broken", message)
            return
    result.chain_pem = "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in chain)


def inspect(
    pem,
    *,
    key=None,
    chain=None,
    expected_names: Sequence[str] | None = None,
    now: datetime.datetime | None = None,
) -> Inspection:
    """Read a certificate (PEM text or bytes) and report what is wrong; never raises for bad input.

    ``key``: the private key (PEM or object), the CSR or the public key the certificate must carry.
    ``chain``: the intermediate certificates (PEM), each of which must have issued the one before.
    ``expected_names``: the names the certificate must carry, exactly. ``now``: for the validity.
    """
    result = Inspection()
    try:
        _inspect(result, pem, key=key, chain=chain, expected_names=expected_names, now=now or timezone.now())
    except Exception:  # a certificate's lazily parsed parts can fail anywhere
        result.add("certificate", "unparsable", _("The certificate could not be read: it is damaged or unusual."))
    return result


def _inspect(result: Inspection, pem, *, key, chain, expected_names, now: datetime.datetime) -> None:
    certificate = _load_certificate(_as_text(pem), result)
    if certificate is None:
        return
    result.subject = certificate.subject.rfc4514_string()
    result.issuer = certificate.issuer.rfc4514_string()
    serial = format(abs(certificate.serial_number), "X")
    result.serial = serial.zfill(len(serial) + len(serial) % 2)
    result.names = _names_of(certificate.subject, certificate.extensions)
    public_key = certificate.public_key()
    result.key_type, result.key_size = _key_description(public_key)
    result.not_before, result.not_after = certificate.not_valid_before_utc, certificate.not_valid_after_utc

    if now < result.not_before:
        result.add("certificate", "not_yet_valid", _("The certificate is not valid yet: it is valid from %(date)s.") % {
            "date": _when(result.not_before)
        })  # fmt: skip
    if now > result.not_after:
        result.add("certificate", "expired", _("The certificate expired on %(date)s.") % {
            "date": _when(result.not_after)
        })  # fmt: skip

    if isinstance(key, str | bytes) and not key.strip():
        key = None
    if key is not None:
        expected_key, source = _public_key_to_match(key, result)
        if expected_key is not None and _spki(expected_key) != _spki(public_key):
            if source == "csr":
                message = _("The certificate does not match the request's CSR: it was issued for another key.")
            else:
                message = _("The certificate does not match the private key: it was issued for another key.")
            result.add("key", "wrong_key", message)

    if expected_names is not None:
        expected = {_clean(n) for n in expected_names}
        found = set(result.names)
        if missing := expected - found:
            result.add("certificate", "names_missing", _("The certificate lacks requested names: %(names)s.") % {
                "names": _join(missing)
            })  # fmt: skip
        if extra := found - expected:
            result.add("certificate", "names_extra", _("The certificate has names that were not requested: "
                                                       "%(names)s.") % {"names": _join(extra)})  # fmt: skip

    chain_text = _as_text(chain)
    if chain_text.strip():
        chain_certificates = _load_chain(chain_text, result)
        if chain_certificates:
            _check_chain(certificate, chain_certificates, result)


# Certificate signing requests


def check_csr(csr_pem: str, names: Sequence[str] | None = None) -> tuple[x509.CertificateSigningRequest, list[str]]:
    """Parse and check a customer's CSR: readable, validly signed, RSA of 2048 bits or more or ECDSA
    P-256/P-384, and carrying exactly ``names`` (common name and SAN). Returns it and its names,
    the common name first. Raises ``ValidationError({"csr_pem": [...]})``."""

    def refuse(*messages: str):
        return ValidationError({"csr_pem": [str(m) for m in messages]})

    text = _as_text(csr_pem)
    blocks = _blocks(text)
    labels = [label for label, _block in blocks]
    if any(_is_private_key(label) for label in labels):
        raise refuse(_(
            "This contains a private key: never send it to anyone. Paste only the CSR (it starts with "
            "-----BEGIN CERTIFICATE REQUEST-----)."
        ))  # fmt: skip
    requests = [block for label, block in blocks if _is_csr(label)]
    if not requests:
        if "CERTIFICATE" in labels:
            raise refuse(_("This is a certificate, not a certificate signing request (CSR)."))
        if not text.strip():
            raise refuse(_("Paste your certificate signing request (CSR)."))
        raise refuse(_unreadable(text, "CERTIFICATE REQUEST"))
    if len(requests) > 1:
        raise refuse(_("Paste one CSR only."))
    try:
        csr = x509.load_pem_x509_csr(requests[0].encode("ascii"))
        signature_valid = csr.is_signature_valid
        public_key = csr.public_key()
        csr_names = _names_of(csr.subject, csr.extensions)
        common_names = [_clean(str(a.value)) for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    except Exception:  # what a customer pastes can fail anywhere in the parser
        raise refuse(_("The CSR could not be read: it is damaged or incomplete.")) from None
    if common_names and common_names[0] not in csr_names:
        csr_names.insert(0, common_names[0])  # SAN names plus the common name: all of them must match
    errors = []
    if not signature_valid:
        errors.append(_("The CSR's signature is not valid: generate the CSR again."))
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            errors.append(_("The CSR's RSA key has %(bits)d bits; at least %(min)d are required.") % {
                "bits": public_key.key_size, "min": MIN_RSA_BITS
            })  # fmt: skip
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.name not in ACCEPTED_CURVES:
            errors.append(_("The CSR's key uses the curve %(curve)s; only P-256 and P-384 are accepted.") % {
                "curve": public_key.curve.name
            })  # fmt: skip
    else:
        errors.append(_("The CSR's key type is not accepted: use RSA (2048 bits or more) or ECDSA P-256 or P-384."))
    if not csr_names:
        errors.append(_("The CSR names no host name: neither a common name nor subject alternative names."))
    elif names is not None:
        wanted, found = set(names), set(csr_names)
        if missing := wanted - found:
            errors.append(_("The CSR lacks names you requested: %(names)s.") % {"names": _join(missing)})
        if extra := found - wanted:
            errors.append(_("The CSR has names you did not request: %(names)s.") % {"names": _join(extra)})
    if errors:
        raise refuse(*errors)
    if common_names:  # the common name first, as the request keeps it
        csr_names = [common_names[0], *(n for n in csr_names if n != common_names[0])]
    return csr, csr_names


def _generate_key(key_type: str):
    if key_type == "rsa2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "ec256":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValidationError({"key_type": _("Choose RSA 2048 bits or ECDSA P-256.")})


def _build_csr(private_key, names: Sequence[str]) -> str:
    # A common name holds at most 64 characters; a longer first name lives in the SAN only.
    subject = [x509.NameAttribute(NameOID.COMMON_NAME, names[0])] if len(names[0]) <= 64 else []
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name(subject))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .sign(private_key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _new_key_and_csr(key_type: str, names: Sequence[str]) -> tuple[str, str]:
    """(the private key encrypted for storage, the CSR PEM)."""
    private_key = _generate_key(key_type)
    key_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    return crypto.encrypt(key_pem), _build_csr(private_key, names)


def key_type_of(request: CertificateRequest) -> str:
    """The generated key's type ("rsa2048", "ec256") read from the CSR, to renew with the same kind."""
    try:
        public_key = x509.load_pem_x509_csr(request.csr_pem.encode("ascii")).public_key()
    except (ValueError, UnicodeError, UnsupportedAlgorithm):
        return "rsa2048"
    return "ec256" if isinstance(public_key, ec.EllipticCurvePublicKey) else "rsa2048"


# E-mails


def customer_recipients(request: CertificateRequest) -> list[str]:
    """The people who manage certificates for the customer, and whoever asked for this one."""
    roles = PERMISSIONS[Permission.MANAGE_DNS]
    emails = set(
        request.customer.memberships.filter(role__in=roles, user__is_active=True).values_list("user__email", flat=True)
    )
    if request.requested_by_id and request.requested_by.is_active:
        emails.add(request.requested_by.email)
    return sorted(emails)


def staff_recipients() -> list[str]:
    if settings.SUPPORT_STAFF_EMAILS:
        return list(settings.SUPPORT_STAFF_EMAILS)
    return sorted(User.objects.filter(is_staff=True, is_active=True).values_list("email", flat=True))


def _notify_customer(request: CertificateRequest, message: CertificateRequestMessage, **context) -> None:
    to = customer_recipients(request)
    if to:
        mail.send_templated(
            to=to,
            template_prefix="services/email/certificate_status",
            context={
                "request": request, "message": message, "link": settings.PORTAL_BASE_URL + request.get_absolute_url(),
                "base_url": settings.PORTAL_BASE_URL, **context,
            },
            language=request.customer.preferred_language,
        )  # fmt: skip


def _notify_staff(request: CertificateRequest, what: str, message: CertificateRequestMessage | None = None) -> None:
    to = staff_recipients()
    if to:
        mail.send_templated(
            to=to,
            template_prefix="services/email/certificate_staff",
            context={
                "request": request, "what": what, "message": message,
                "link": f"{settings.PORTAL_BASE_URL}/admin/services/certificaterequest/{request.pk}/change/",
            },
            language=settings.LANGUAGE_CODE,
        )  # fmt: skip


# The timeline


def _locked(request: CertificateRequest) -> CertificateRequest:
    return (
        CertificateRequest.objects.select_for_update(of=("self",))
        .select_related("customer", "service", "plan")
        .get(pk=request.pk)
    )


def _change(
    request: CertificateRequest,
    status: str | None,
    *,
    by: User | None,
    now: datetime.datetime,
    body: str = "",
    by_staff: bool = False,
    document=None,
    notify: bool = True,
    **email_context,
) -> CertificateRequestMessage:
    """Move ``request`` to ``status`` (None: a message only), keep it in the timeline, tell the customer."""
    old = request.status
    changed = status is not None and status != old
    message = CertificateRequestMessage(
        request=request, author=by if by is not None and by.pk else None, by_staff=by_staff, body=body.strip(),
        old_status=old if changed else "", new_status=status if changed else "", created_at=now,
    )  # fmt: skip
    if document is not None:
        from support import attachments

        message.document_name = attachments.display_name(document.name)
        message.document.save(attachments.stored_name(message.document_name), document, save=False)
    message.save()
    if changed:
        request.status = status
        CertificateRequest.objects.filter(pk=request.pk).update(status=status, updated_at=now)
        audit.record(
            "certificate.status_changed", actor=by, customer=request.customer, obj=request, old=old, new=status
        )
    if notify:
        _notify_customer(request, message, **email_context)
    return message


# Requests


def _check_plan(plan: Plan | None) -> None:
    if plan is not None and (plan.kind != Kind.SSL_CERTIFICATE or not plan.is_active):
        raise ValidationError({"plan": _("Choose one of the SSL certificate plans of the catalogue.")})


def _check_replaces(replaces: CertificateRequest, customer: Customer) -> None:
    if replaces.customer_id != customer.pk:
        raise ValidationError({"replaces": _("Choose one of your certificates.")})
    if replaces.status != Status.ISSUED:
        raise ValidationError(
            {"replaces": _("Only an issued certificate can be renewed; this one is %(status)s.") % {
                "status": replaces.get_status_display().lower()
            }}
        )  # fmt: skip
    if replaces.replaced_by.filter(status__in=OPEN_STATUSES).exists():
        raise ValidationError({"replaces": _("A renewal of this certificate is already under way.")})


def _submit(request: CertificateRequest, *, by: User | None, now: datetime.datetime) -> None:
    outcome = get_certificate_authority().submit(request)
    if outcome.status != request.status or outcome.message:
        _change(request, outcome.status, by=None, now=now, body=outcome.message, by_staff=True)


@transaction.atomic
def request_certificate(
    *,
    customer: Customer,
    by: User,
    names: Iterable[str] | str,
    plan: Plan | None = None,
    csr_pem: str | None = None,
    key_type: str = "rsa2048",
    replaces: CertificateRequest | None = None,
    now: datetime.datetime | None = None,
) -> CertificateRequest:
    """Art. 5.1.1: ask the CA for a certificate for ``names`` (any host names, the customer's
    domains or not). Without ``csr_pem`` the portal generates the private key (kept encrypted,
    downloadable once) and the CSR; with it, the customer's CSR is checked against the names (and
    gives them when ``names`` is empty). ``replaces``: the issued certificate this renews (art. 5.2.2)."""
    now = now or timezone.now()
    _check_plan(plan)
    if replaces is not None:
        replaces = _locked(replaces)
        _check_replaces(replaces, customer)
        plan = plan or replaces.plan
    has_names = bool(names.strip()) if isinstance(names, str) else any(str(n).strip() for n in names)
    if csr_pem is not None and csr_pem.strip():
        csr, csr_names = check_csr(csr_pem, validate_names(names) if has_names else None)
        try:
            names = validate_names(csr_names)  # the CSR's order: its common name first
        except ValidationError as error:
            raise ValidationError({"csr_pem": error.messages}) from None
        key_source, key_encrypted = KeySource.CUSTOMER_CSR, ""
        csr_text = csr.public_bytes(serialization.Encoding.PEM).decode("ascii")
    else:
        names = validate_names(names)
        key_source = KeySource.GENERATED
        key_encrypted, csr_text = _new_key_and_csr(key_type, names)
    request = CertificateRequest.objects.create(
        customer=customer, plan=plan, names=names, key_source=key_source, private_key_encrypted=key_encrypted,
        csr_pem=csr_text, replaces=replaces, requested_by=by, created_at=now,
    )  # fmt: skip
    body = _("Renewal of the certificate for %(names)s.") % {"names": ", ".join(replaces.names)} if replaces else ""
    first = CertificateRequestMessage.objects.create(
        request=request, author=by, body=body, new_status=Status.REQUESTED, created_at=now
    )
    audit.record("certificate.requested", actor=by, customer=customer, obj=request, names=names, renews=bool(replaces))
    _notify_customer(request, first)
    _notify_staff(request, "new")
    _submit(request, by=by, now=now)
    return request


@transaction.atomic
def download_key(*, request: CertificateRequest, by: User, now: datetime.datetime | None = None) -> str:
    """The private key the portal generated, once: afterwards it is never shown again."""
    now = now or timezone.now()
    request = _locked(request)
    if request.key_source != KeySource.GENERATED or not request.private_key_encrypted:
        raise ValidationError(_("The portal holds no private key for this request: it was made from your own CSR."))
    if request.key_downloaded_at is not None:
        raise ValidationError(
            _("The private key was downloaded on %(date)s and, for your security, is never shown again. If it is "
              "lost, request a new certificate.") % {"date": _when(request.key_downloaded_at)}
        )  # fmt: skip
    claimed = CertificateRequest.objects.filter(pk=request.pk, key_downloaded_at__isnull=True).update(
        key_downloaded_at=now
    )
    if not claimed:  # pragma: no cover - the row lock makes this a second line of defence
        raise ValidationError(_("The private key was already downloaded."))
    request.key_downloaded_at = now
    author = by.get_full_name() or by.email
    _change(request, None, by=by, now=now, body=_("Private key downloaded by %(who)s.") % {"who": author},
            notify=False)  # fmt: skip
    audit.record("certificate.key_downloaded", actor=by, customer=request.customer, obj=request)
    return crypto.decrypt(request.private_key_encrypted)


@transaction.atomic
def set_status(
    *,
    request: CertificateRequest,
    status: str,
    by: User,
    message: str = "",
    document=None,
    now: datetime.datetime | None = None,
) -> CertificateRequest:
    """Staff record where the CA stands: validating, information requested (with what it needs, e.g.
    proof of a trade name, art. 5.1.1), rejected (with why), or back to requested. The same status
    with a message adds the message only."""
    now = now or timezone.now()
    request = _locked(request)
    if status == request.status:
        if not message.strip() and document is None:
            raise ValidationError({"message": _("Write a message, or choose another status.")})
        _change(request, None, by=by, now=now, body=message, by_staff=True, document=document)
        return request
    if status == Status.ISSUED:
        raise ValidationError({"status": _("Upload the issued certificate: installing it marks the request issued.")})
    if status == Status.REVOKED:
        raise ValidationError({"status": _("Record the revocation of its certificate instead.")})
    if status not in STAFF_STATUSES:
        raise ValidationError({"status": _("A request becomes replaced when its renewal's certificate is installed.")})
    if request.status not in OPEN_STATUSES:
        raise ValidationError(
            {"status": _("This request is %(status)s: the certificate authority has decided.") % {
                "status": request.get_status_display().lower()
            }}
        )  # fmt: skip
    if status == Status.INFORMATION_REQUESTED and not message.strip():
        raise ValidationError({"message": _("Say what the certificate authority needs from the customer.")})
    if status == Status.REJECTED and not message.strip():
        raise ValidationError({"message": _("Say why the certificate authority rejected the request.")})
    _change(request, status, by=by, now=now, body=message, by_staff=True, document=document)
    return request


@transaction.atomic
def answer(
    *,
    request: CertificateRequest,
    by: User,
    body: str,
    files: Sequence = (),
    csr_pem: str | None = None,
    now: datetime.datetime | None = None,
) -> CertificateRequest:
    """The customer answers the CA's question with text and documents; the request goes back to
    where it was. A replacement waiting for a new CSR takes it here and is submitted again."""
    from support import attachments

    now = now or timezone.now()
    request = _locked(request)
    if request.status != Status.INFORMATION_REQUESTED:
        raise ValidationError(_("No information is asked for this request at the moment."))
    files = list(files)
    needs_csr = request.key_source == KeySource.CUSTOMER_CSR and not request.csr_pem
    if needs_csr:
        if not (csr_pem or "").strip():
            raise ValidationError({"csr_pem": _("Paste the new certificate signing request (CSR).")})
        csr, _names = check_csr(csr_pem, request.names)
        request.csr_pem = csr.public_bytes(serialization.Encoding.PEM).decode("ascii")
        CertificateRequest.objects.filter(pk=request.pk).update(csr_pem=request.csr_pem)
    elif not body.strip() and not files:
        raise ValidationError({"body": _("Write your answer or attach a document.")})
    attachments.validate_all(files)
    if needs_csr:
        back_to = Status.REQUESTED
    else:
        asked = request.messages.filter(new_status=Status.INFORMATION_REQUESTED).order_by("-created_at", "-pk")
        back_to = next(iter(asked.values_list("old_status", flat=True)[:1]), "") or Status.VALIDATING
        back_to = back_to if back_to in OPEN_STATUSES - {Status.INFORMATION_REQUESTED} else Status.VALIDATING
    if not body.strip() and needs_csr:
        body = _("New CSR sent.")
    message = _change(request, back_to, by=by, now=now, body=body, document=files[0] if files else None)
    for upload in files[1:]:
        _change(request, None, by=by, now=now, document=upload, notify=False)
    audit.record("certificate.answered", actor=by, customer=request.customer, obj=request, documents=len(files))
    _notify_staff(request, "answer", message)
    if needs_csr:
        _submit(request, by=by, now=now)
    return request


@transaction.atomic
def withdraw(*, request: CertificateRequest, by: User, now: datetime.datetime | None = None) -> CertificateRequest:
    """The customer withdraws a request the CA has not decided yet; it ends as rejected, saying so."""
    now = now or timezone.now()
    request = _locked(request)
    if request.status not in OPEN_STATUSES:
        raise ValidationError(_("Only a request that is still under way can be withdrawn."))
    cancelled = get_certificate_authority().cancel(request)
    _change(request, Status.REJECTED, by=by, now=now, body=_("Withdrawn at the customer's request."))
    audit.record("certificate.withdrawn", actor=by, customer=request.customer, obj=request)
    if not cancelled:
        _notify_staff(request, "withdrawn")
    return request


# Installing the issued certificate


def _key_for(request: CertificateRequest) -> str:
    """What the certificate must match: the generated private key, or the customer's CSR."""
    if request.key_source == KeySource.GENERATED and request.private_key_encrypted:
        try:
            return crypto.decrypt(request.private_key_encrypted)
        except ValueError:
            pass  # keys rotated away: the CSR carries the same public key
    return request.csr_pem


def check_certificate(
    *, request: CertificateRequest, pem, chain=None, now: datetime.datetime | None = None
) -> Inspection:
    """``inspect`` against what the request asked for: its key and its names."""
    return inspect(pem, key=_key_for(request) or None, chain=chain, expected_names=request.names, now=now)


FORM_FIELDS = {"certificate": "pem", "key": "pem", "chain": "chain"}


def problems_as_error(inspection: Inspection) -> ValidationError:
    errors: dict[str, list[str]] = {}
    for problem in inspection.problems:
        errors.setdefault(FORM_FIELDS.get(problem.field, "pem"), []).append(problem.message)
    return ValidationError(errors)


def _ssl_plan(request: CertificateRequest) -> Plan:
    plan = request.plan or Plan.objects.filter(kind=Kind.SSL_CERTIFICATE).order_by("-is_active", "price", "pk").first()
    if plan is None:
        raise ValidationError(_("The catalogue has no SSL certificate plan: add one before installing certificates."))
    return plan


def _record_contract(
    request: CertificateRequest, certificate: Certificate, *, by: User | None, now: datetime.datetime
) -> Service:
    """Art. 5.2.1: the contract lasts the certificate's validity."""
    start = timezone.localtime(certificate.not_before).date()
    end = timezone.localtime(certificate.not_after).date()
    service = request.service
    if service is None:
        service = Service.objects.create(
            customer=request.customer, plan=_ssl_plan(request), name=request.common_name[:255],
            status=Service.Status.ACTIVE, started_on=start, current_period_end=end, auto_renew=False, created_at=now,
        )  # fmt: skip
        lifecycle.created(service, by, now=now)
        CertificateRequest.objects.filter(pk=request.pk).update(service=service)
        request.service = service
    else:
        Service.objects.filter(pk=service.pk).update(started_on=start, current_period_end=end)
        service.started_on, service.current_period_end = start, end
        lifecycle.set_status(service=service, status=Service.Status.ACTIVE, by=by, now=now)
    if end > start:
        lifecycle.record_period(service=service, start=start, end=end, by=by, now=now)
    return service


@transaction.atomic
def install_certificate(
    *,
    request: CertificateRequest,
    pem,
    chain=None,
    by: User,
    now: datetime.datetime | None = None,
) -> Certificate:
    """Check the issued certificate (``inspect`` with the request's key and names) and install it:
    the request becomes issued and its contract runs from the certificate's start to its expiry
    (art. 5.2.1). A renewal's certificate replaces the one it renews. Refuses with the problems."""
    now = now or timezone.now()
    request = _locked(request)
    if request.status not in OPEN_STATUSES:
        raise ValidationError(
            _("This request is %(status)s: a certificate can only be installed on a request under way.") % {
                "status": request.get_status_display().lower()
            }
        )  # fmt: skip
    if not request.csr_pem:
        raise ValidationError(_("This request waits for the customer's new CSR."))
    inspection = check_certificate(request=request, pem=pem, chain=chain, now=now)
    if inspection.problems:
        raise problems_as_error(inspection)
    certificate = Certificate.objects.create(
        request=request, pem=inspection.pem, chain_pem=inspection.chain_pem, subject=inspection.subject[:500],
        issuer=inspection.issuer[:500], serial_number=inspection.serial[:100], names=inspection.names,
        not_before=inspection.not_before, not_after=inspection.not_after, key_type=inspection.key_type,
        key_size=inspection.key_size, uploaded_by=by, uploaded_at=now,
    )  # fmt: skip
    _record_contract(request, certificate, by=by, now=now)
    body = _("Certificate installed, valid until %(date)s.") % {"date": _when(certificate.not_after)}
    _change(request, Status.ISSUED, by=by, now=now, body=body, by_staff=bool(by and by.is_staff))
    audit.record(
        "certificate.installed", actor=by, customer=request.customer, obj=request, serial=certificate.serial_number
    )
    previous = request.replaces
    if previous is not None and previous.status == Status.ISSUED:
        previous = _locked(previous)
        _change(previous, Status.REPLACED, by=by, now=now, by_staff=bool(by and by.is_staff),
                body=_("Replaced by the renewed certificate, valid until %(date)s.") % {
                    "date": _when(certificate.not_after)}, replacement=request)  # fmt: skip
    return certificate


# Revocation and renewal


@transaction.atomic
def record_revocation(
    *,
    certificate: Certificate,
    by: User,
    customer_fault: bool,
    reason: str,
    now: datetime.datetime | None = None,
) -> CertificateRequest | None:
    """Staff record that the CA revoked a certificate. When it was not the customer's fault, the
    portal opens the replacement request at once (art. 5.1.1, last paragraph) and returns it: a new
    key and CSR when the portal made the first, otherwise the customer is asked for a new CSR."""
    now = now or timezone.now()
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the certificate authority revoked the certificate.")})
    request = _locked(certificate.request)
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.revoked_at is not None or request.status != Status.ISSUED:
        raise ValidationError(_("Only the certificate of an issued request can be revoked, and only once."))
    Certificate.objects.filter(pk=certificate.pk).update(revoked_at=now, revoked_by_customer_fault=customer_fault)
    certificate.revoked_at, certificate.revoked_by_customer_fault = now, customer_fault
    audit.record(
        "certificate.revoked", actor=by, customer=request.customer, obj=request, customer_fault=customer_fault,
        reason=reason.strip(),
    )  # fmt: skip
    if customer_fault:
        body = _("The certificate authority revoked the certificate: %(reason)s") % {"reason": reason.strip()}
        _change(request, Status.REVOKED, by=by, now=now, body=body, by_staff=True)
        if request.service is not None:
            lifecycle.set_status(service=request.service, status=Service.Status.ENDED, by=by, now=now)
        return None
    replacement = _open_replacement(request, by=by, now=now)
    body = _(
        "The certificate authority revoked the certificate: %(reason)s. This was not your fault, so we have "
        "opened a request for an equivalent certificate (art. 5.1.1)."
    ) % {"reason": reason.strip().rstrip(".")}
    _change(request, Status.REVOKED, by=by, now=now, body=body, by_staff=True, replacement=replacement)
    return replacement


def _open_replacement(request: CertificateRequest, *, by: User, now: datetime.datetime) -> CertificateRequest:
    """An equivalent request for the same names that takes over the revoked one's contract."""
    service = request.service
    if service is not None:
        CertificateRequest.objects.filter(pk=request.pk).update(service=None)
        request.service = None
    generated = request.key_source == KeySource.GENERATED
    key_encrypted, csr_text = _new_key_and_csr(key_type_of(request), request.names) if generated else ("", "")
    replacement = CertificateRequest.objects.create(
        customer=request.customer, plan=request.plan, names=list(request.names), key_source=request.key_source,
        private_key_encrypted=key_encrypted, csr_pem=csr_text, replaces=request, service=service,
        requested_by=request.requested_by, created_at=now,
    )  # fmt: skip
    first = CertificateRequestMessage.objects.create(
        request=replacement, author=by, by_staff=True, new_status=Status.REQUESTED, created_at=now,
        body=_("Replacement of the revoked certificate for %(names)s.") % {"names": ", ".join(request.names)},
    )  # fmt: skip
    audit.record("certificate.requested", actor=by, customer=request.customer, obj=replacement,
                 names=replacement.names, replaces_revoked=True)  # fmt: skip
    if generated:
        _notify_customer(replacement, first)
        _notify_staff(replacement, "new")
        _submit(replacement, by=by, now=now)
    else:
        _change(replacement, Status.INFORMATION_REQUESTED, by=by, now=now, by_staff=True, body=_(
            "Please send a new certificate signing request (CSR) for the same names, made with a new private key."
        ))  # fmt: skip
    return replacement


def renewal_of(request: CertificateRequest) -> CertificateRequest | None:
    """The renewal or replacement under way or done for ``request``, if any."""
    return request.replaced_by.exclude(status=Status.REJECTED).order_by("-created_at", "-pk").first()


# The integration intervention (art. 5.1.2)


def integration_reason():
    from support.models import InterventionType

    return InterventionType.objects.filter(code=INTEGRATION_REASON, is_active=True).first()


def open_integration_ticket(
    *,
    request: CertificateRequest,
    by: User,
    priority: str,
    notes: str = "",
    now: datetime.datetime | None = None,
):
    """Art. 5.1.2: installing the certificate on the hosting platform is an intervention of annex 1;
    this opens its ticket, naming the certificate. Priced as annex 1 says (see ``price_text``)."""
    from support import tickets

    reason = integration_reason()
    if reason is None:
        raise ValidationError(_("This intervention is not offered at the moment. Please open a ticket instead."))
    certificate = request.certificates.filter(revoked_at__isnull=True).order_by("-uploaded_at", "-pk").first()
    if request.status != Status.ISSUED or certificate is None:
        raise ValidationError(_("Only an issued certificate can be integrated."))
    names = ", ".join(request.names)
    subject = _("Integrate the SSL certificate for %(names)s into the web hosting platform") % {"names": names}
    lines = [
        _("Certificate for: %(names)s") % {"names": names},
        _("Serial number: %(serial)s") % {"serial": certificate.serial_number},
        _("Valid until: %(date)s") % {"date": _when(certificate.not_after)},
        settings.PORTAL_BASE_URL + request.get_absolute_url(),
    ]
    if notes.strip():
        lines += ["", notes.strip()]
    ticket = tickets.open_ticket(
        customer=request.customer, opened_by=by, reason=reason, priority=priority, subject=subject[:200],
        description="\n".join(lines), service=request.service, now=now,
    )  # fmt: skip
    _change(request, None, by=by, now=now or timezone.now(), notify=False,
            body=_("Integration requested in ticket %(number)s.") % {"number": ticket.number})  # fmt: skip
    return ticket
