"""Domain requests (art. 4.2) and the nameservers they use (art. 4.3): one function per change.

Each change is atomic, written in the request's timeline (``DomainRequestMessage``) and the audit
log, and tells the other side by e-mail after commit. The registry decides (art. 4.2.1): the
customer's request goes to the registry backend of ``services.registry``; staff record what the
registry answered with ``set_status``, ``complete`` and ``reject``.
"""

import datetime
import encodings.idna
import re

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Customer, User
from accounts.roles import PERMISSIONS, Permission
from billing import invoices
from portal import audit, crypto, mail
from services import dns, lifecycle
from services.models import DnsZone, DomainRequest, DomainRequestMessage, Kind, Plan, Service
from services.registry import Outcome, get_registry
from support import attachments

Status = DomainRequest.Status
RequestKind = DomainRequest.Kind

OPEN_STATUSES = (Status.SUBMITTED, Status.PENDING_REGISTRY, Status.INFORMATION_REQUESTED)
ENDED_SERVICE = (Service.Status.ENDED, Service.Status.EXPIRED)
MAX_YEARS = 10  # the longest term registries accept

# Hosting a domain on our nameservers is technical work; the other requests are invoiced.
PERMISSION_FOR_KIND = {
    RequestKind.REGISTER: Permission.SPEND,
    RequestKind.TRANSFER: Permission.SPEND,
    RequestKind.TRADE: Permission.SPEND,
    RequestKind.DNS_HOSTING: Permission.MANAGE_DNS,
}

_LDH_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})  # the dots IDNA treats as dots


# Names


def normalize_domain(text: str) -> str:
    """The domain in ASCII as registries and zone files write it: IDN labels in punycode
    ("café.be" → "xn--caf-dma.be"), lowercase, no final dot. Raises ``ValidationError``."""
    name = (text or "").strip().translate(_DOTS).lower()
    if name.endswith("."):
        name = name[:-1]
    if not name:
        raise ValidationError(_("Enter a domain name."))
    if any(character.isspace() for character in name):
        raise ValidationError(_("A domain name has no spaces."))
    if name.startswith(("http://", "https://")) or "/" in name or "@" in name:
        raise ValidationError(_("Enter only the domain name, e.g. example.be, without http://, / or @."))
    labels = name.split(".")
    if len(labels) < 2:
        raise ValidationError(_("Enter the whole domain name with its extension, e.g. example.be."))
    ascii_labels = [_ascii_label(label) for label in labels]
    if ascii_labels[-1].isdigit():
        raise ValidationError(_("The extension after the last dot cannot be only digits."))
    result = ".".join(ascii_labels)
    if len(result) > 253:
        raise ValidationError(
            _("A domain name has at most 253 characters; this one has %(length)d once encoded.")
            % {"length": len(result)}
        )
    return result


def _ascii_label(label: str) -> str:
    if not label:
        raise ValidationError(_("A domain name cannot start with a dot or have two dots in a row."))
    shown = label[:70]
    if label.isascii():
        encoded = label
        if encoded.startswith("xn--") and _decoded_label(encoded) is None:
            raise ValidationError(_("“%(label)s” is not a valid international (punycode) name.") % {"label": shown})
    else:
        try:
            encoded = _idna_label(label)
        except UnicodeError:
            raise ValidationError(
                _("“%(label)s” cannot be part of a domain name: it is too long or has characters not allowed.")
                % {"label": shown}
            ) from None
    if len(encoded) > 63:
        raise ValidationError(
            _("Each part between dots has at most 63 characters; “%(label)s” has %(length)d once encoded.")
            % {"label": shown, "length": len(encoded)}
        )
    if not _LDH_LABEL.match(encoded):
        raise ValidationError(
            _("“%(label)s”: use letters, digits and hyphens, and do not start or end a part with a hyphen.")
            % {"label": shown}
        )
    return encoded.lower()


def _idna_label(label: str) -> str:
    """One Unicode label in punycode. Registries follow IDNA 2008, which keeps ß and ς, whereas the
    IDNA 2003 codec of Python maps them to ss and σ (another domain): those two are kept as they are."""
    if "\u200c" in label or "\u200d" in label:
        raise UnicodeError("joiners need the context rules of IDNA 2008")
    if "ß" not in label and "ς" not in label:
        return encodings.idna.ToASCII(label).decode("ascii")
    pieces = re.split("([ßς])", label)
    mapped = "".join(piece if piece in ("ß", "ς") else encodings.idna.nameprep(piece) for piece in pieces if piece)
    return "xn--" + mapped.encode("punycode").decode("ascii")


def _decoded_label(label: str) -> str | None:
    """The Unicode form of a punycode label, or None when it is not one that encodes back to itself."""
    try:
        decoded = label[4:].encode("ascii").decode("punycode")
        if decoded and not decoded.isascii() and _idna_label(decoded) == label.lower():
            return decoded
    except UnicodeError:
        pass
    return None


def display_domain(name: str) -> str:
    """The domain as people read it (punycode labels decoded): "xn--caf-dma.be" → "café.be"."""
    labels = [(_decoded_label(label) if label.startswith("xn--") else None) or label for label in name.split(".")]
    return ".".join(labels)


def nameservers() -> list[str]:
    """The provider's primary and secondary nameservers (art. 4.3.1), in that order."""
    return list(settings.DNS_NAMESERVERS)


# Who may ask for what


def kinds_for(membership) -> list[str]:
    """The kinds of request this membership may submit (and answer), in the model's order."""
    if not membership:
        return []
    return [kind for kind in RequestKind if membership.can(PERMISSION_FOR_KIND[kind])]


def offered_plans():
    return Plan.objects.filter(kind=Kind.DOMAIN, is_active=True).order_by("price", "name", "pk")


def default_plan() -> Plan | None:
    """The plan a request without one gets: the cheapest domain plan still offered."""
    return offered_plans().first()


def add_years(day: datetime.date, years: int) -> datetime.date:
    return day + relativedelta(years=years)  # 29 February + 1 year is 28 February


# The customer's side


def _check_available(name: str, *, customer: Customer, kind: str) -> None:
    shown = display_domain(name)
    if DomainRequest.objects.filter(domain=name, status__in=OPEN_STATUSES).exists():
        raise ValidationError({"domain": _("A request for %(domain)s is already in progress.") % {"domain": shown}})
    services = Service.objects.filter(plan__kind=Kind.DOMAIN).exclude(status__in=ENDED_SERVICE)
    services = services.filter(Q(name__iexact=name) | Q(name__iexact=shown))
    zones = DnsZone.objects.filter(name=name)
    if kind == RequestKind.TRADE:
        # A trade may take the domain over from another customer of ours (art. 4.2.2); not from oneself.
        services, zones = services.filter(customer=customer), zones.filter(service__customer=customer)
    if services.filter(customer=customer).exists() or zones.filter(service__customer=customer).exists():
        raise ValidationError({"domain": _("%(domain)s is already one of your domains.") % {"domain": shown}})
    if services.exists() or zones.exists():
        message = _("We already manage %(domain)s. If you are its new owner, ask for a trade.")
        raise ValidationError({"domain": message % {"domain": shown}})


@transaction.atomic
def submit_request(
    *,
    customer: Customer,
    by: User,
    kind: str,
    domain: str,
    years: int = 1,
    auth_code: str = "",
    new_owner: str = "",
    plan: Plan | None = None,
    now: datetime.datetime | None = None,
) -> DomainRequest:
    """A registration, transfer or trade sent to the registry, or DNS hosting of a domain
    registered elsewhere (art. 4.3.2), which staff set up. Raises ``ValidationError`` by field."""
    now = now or timezone.now()
    if kind not in RequestKind.values:
        raise ValidationError({"kind": _("Choose what you want to do with the domain.")})
    errors: dict[str, list[str]] = {}
    try:
        name = normalize_domain(domain)
    except ValidationError as error:
        errors["domain"] = error.messages
    if kind == RequestKind.DNS_HOSTING:
        years = 1  # no registration term: the domain stays with its registrar
    elif not isinstance(years, int) or isinstance(years, bool) or years < 1:
        errors["years"] = [_("A domain is registered for whole years: at least one (art. 4.4.1).")]
    elif years > MAX_YEARS:
        errors["years"] = [_("At most %(max)d years at once.") % {"max": MAX_YEARS}]
    auth_code = (auth_code or "").strip() if kind == RequestKind.TRANSFER else ""
    if kind == RequestKind.TRANSFER and not auth_code:
        errors["auth_code"] = [
            _("A transfer needs the auth code (also called EPP or transfer code) of the current registrar.")
        ]
    elif len(auth_code) > 255:
        errors["auth_code"] = [_("An auth code has at most 255 characters.")]
    new_owner = (new_owner or "").strip() if kind == RequestKind.TRADE else ""
    if kind == RequestKind.TRADE and not new_owner:
        errors["new_owner"] = [
            _("A trade needs the new owner's details: name or company, address, e-mail, VAT number.")
        ]
    if plan is not None and (plan.kind != Kind.DOMAIN or not plan.is_active):
        errors["plan"] = [_("Choose one of the domain plans offered.")]
    if errors:
        raise ValidationError(errors)
    _check_available(name, customer=customer, kind=kind)

    request = DomainRequest.objects.create(
        customer=customer, domain=name, kind=kind, years=years, auth_code_encrypted=crypto.encrypt(auth_code),
        new_owner=new_owner, plan=plan, requested_by=by, created_at=now,
    )  # fmt: skip
    DomainRequestMessage.objects.create(request=request, author=by, new_status=Status.SUBMITTED, created_at=now)
    audit.record("domain_request.submitted", actor=by, customer=customer, obj=request, kind=kind)
    _notify_customer(request, "domain_received")
    _notify_staff(request, "domain_staff_new")
    # DNS hosting involves no registry: the domain stays with its registrar and staff set up the zone.
    registry = get_registry()
    if kind == RequestKind.REGISTER:
        _apply(request, registry.register(request), now=now)
    elif kind == RequestKind.TRANSFER:
        _apply(request, registry.transfer(request, auth_code), now=now)
    elif kind == RequestKind.TRADE:
        _apply(request, registry.trade(request), now=now)
    request.refresh_from_db()
    return request


def _apply(request: DomainRequest, outcome: Outcome, *, now: datetime.datetime) -> None:
    """What the registry backend answered, in the request's state and timeline."""
    if outcome.status == Status.COMPLETED:
        complete(request=request, by=None, today=timezone.localdate(now), now=now)
    elif outcome.status == Status.REJECTED:
        reject(request=request, by=None, message=outcome.message or _("The registry refused the request."), now=now)
    elif outcome.status != request.status or outcome.message:
        _move(request, outcome.status, by=None, by_staff=True, body=outcome.message, now=now)


@transaction.atomic
def answer(
    *, request: DomainRequest, by: User, body: str, document=None, now: datetime.datetime | None = None
) -> DomainRequestMessage:
    """The customer's answer to what the registry asked (art. 4.2.1), with text and/or a document;
    an answer to "information requested" sends the request back to the registry."""
    now = now or timezone.now()
    request = _locked(request)
    _check_open(request)
    body = (body or "").strip()
    if not body and not document:
        raise ValidationError({"body": _("Write an answer or attach a document.")})
    if document:
        try:
            attachments.validate(document)
        except ValidationError as error:
            raise ValidationError({"document": error.messages}) from None
    status = request.status
    if status == Status.INFORMATION_REQUESTED:
        status = Status.SUBMITTED if request.kind == RequestKind.DNS_HOSTING else Status.PENDING_REGISTRY
    message = _move(request, status, by=by, by_staff=False, body=body, now=now)
    if document:
        message.document_name = attachments.display_name(document.name)
        message.document.save(attachments.stored_name(message.document_name), document, save=False)
        message.save(update_fields=["document", "document_name"])
    audit.record(
        "domain_request.answered", actor=by, customer=request.customer, obj=request, document=message.document_name
    )
    _notify_staff(request, "domain_staff_answer", message=message)
    return message


# The staff's side


@transaction.atomic
def set_status(
    *, request: DomainRequest, status: str, by: User | None, message: str = "", now: datetime.datetime | None = None
) -> DomainRequestMessage:
    """Record what the registry said: "pending at the registry" or "information requested" (which
    needs the question for the customer, art. 4.2.1); with the same status, a message only."""
    now = now or timezone.now()
    if status in (Status.COMPLETED, Status.REJECTED):
        raise ValidationError({"status": _("Complete or reject the request with its own action.")})
    if status not in (Status.PENDING_REGISTRY, Status.INFORMATION_REQUESTED):
        raise ValidationError({"status": _("A request cannot go back to this status.")})
    request = _locked(request)
    _check_open(request)
    message = (message or "").strip()
    if status == Status.INFORMATION_REQUESTED and not message:
        raise ValidationError(
            {"message": _("Say what the registry needs from the customer (art. 4.2.1), e.g. proof of a trademark.")}
        )
    if status == request.status and not message:
        raise ValidationError({"status": _("The request already has this status; write a message to add one.")})
    old = request.status
    entry = _move(request, status, by=by, by_staff=True, body=message, now=now)
    audit.record("domain_request.status_changed", actor=by, customer=request.customer, obj=request, old=old, new=status)
    _notify_customer(request, "domain_status", message=entry)
    return entry


def completion_problems(request: DomainRequest, *, plan: Plan | None = None) -> list[str]:
    """Why staff cannot complete the request now (with ``plan``, if given); empty when they can."""
    problems = []
    if request.status not in OPEN_STATUSES:
        problems.append(_("This request is already %(status)s.") % {"status": request.get_status_display().lower()})
    if plan is not None and plan.kind != Kind.DOMAIN:
        problems.append(_("The domain service needs a domain plan."))
    if plan is None and request.plan is None and default_plan() is None:
        problems.append(_("No domain plan is offered in the catalogue: add one before completing."))
    if DnsZone.objects.filter(name=request.domain).exists():
        problems.append(
            _("A DNS zone for %(domain)s already exists: end the service it belongs to first.")
            % {"domain": request.domain}
        )
    return problems


@transaction.atomic
def complete(
    *,
    request: DomainRequest,
    by: User | None,
    today: datetime.date,
    plan: Plan | None = None,
    now: datetime.datetime | None = None,
) -> Service:
    """The registry granted it (or staff set up DNS hosting): the domain service starts today with its
    DNS zone on our nameservers (art. 4.3.1). A registration, transfer or trade runs whole years
    (art. 4.4.1) and its first period is invoiced; DNS hosting is indefinite and not invoiced.
    The service's plan: ``plan`` if staff chose one, else the request's, else the cheapest offered."""
    now = now or timezone.now()
    request = _locked(request)
    problems = completion_problems(request, plan=plan)
    if problems:
        raise ValidationError(problems)
    plan = plan or request.plan or default_plan()
    dns_hosting = request.kind == RequestKind.DNS_HOSTING
    service = Service.objects.create(
        customer=request.customer, plan=plan, name=display_domain(request.domain), status=Service.Status.ACTIVE,
        started_on=today, current_period_end=None if dns_hosting else add_years(today, request.years),
        created_at=now,
    )  # fmt: skip
    lifecycle.created(service, by, now=now)
    lifecycle.record_period(service=service, start=today, end=service.current_period_end, by=by, now=now)
    dns.create_zone(service=service, name=request.domain, by=by, today=today)
    invoice = None
    if not dns_hosting and plan.price > 0:
        with translation.override(request.customer.preferred_language or settings.LANGUAGE_CODE):
            description = f"{plan.name} — {service.name} ({request.get_kind_display()})"
        line = invoices.Line(description=description, unit_price=plan.price, quantity=request.years)
        invoice = invoices.issue(customer=request.customer, lines=[line], by=by, today=today)
    request.plan, request.service = plan, service
    request.save(update_fields=["plan", "service", "updated_at"])
    entry = _move(request, Status.COMPLETED, by=by, by_staff=True, body="", now=now)
    audit.record(
        "domain_request.completed", actor=by, customer=request.customer, obj=request, service=service.pk,
        invoice=invoice.number if invoice else "",
    )  # fmt: skip
    _notify_customer(request, "domain_status", message=entry, invoice=invoice)
    return service


@transaction.atomic
def reject(
    *, request: DomainRequest, by: User | None, message: str, now: datetime.datetime | None = None
) -> DomainRequestMessage:
    """The registry refused (or the request cannot go on): the customer reads why."""
    now = now or timezone.now()
    message = (message or "").strip()
    if not message:
        raise ValidationError({"message": _("Tell the customer why the request is rejected.")})
    request = _locked(request)
    _check_open(request)
    entry = _move(request, Status.REJECTED, by=by, by_staff=True, body=message, now=now)
    audit.record("domain_request.rejected", actor=by, customer=request.customer, obj=request)
    _notify_customer(request, "domain_status", message=entry)
    return entry


def reveal_auth_code(*, request: DomainRequest, by: User, http_request: HttpRequest | None = None) -> str:
    """The transfer's auth code in clear, for staff filing it at the registry; every reveal is audited."""
    if not (by.is_active and by.is_staff):
        raise PermissionDenied
    code = crypto.decrypt(request.auth_code_encrypted)
    audit.record(
        "domain_request.auth_code_revealed", actor=by, customer=request.customer, obj=request, request=http_request
    )
    return code


# Inside


def _locked(request: DomainRequest) -> DomainRequest:
    return (
        DomainRequest.objects.select_for_update(of=("self",))
        .select_related("customer", "plan", "requested_by")
        .get(pk=request.pk)
    )


def _check_open(request: DomainRequest) -> None:
    if request.status not in OPEN_STATUSES:
        raise ValidationError(
            _("This request is %(status)s: nothing more can be added to it.")
            % {"status": request.get_status_display().lower()}
        )


def _move(
    request: DomainRequest, status: str, *, by: User | None, by_staff: bool, body: str, now: datetime.datetime
) -> DomainRequestMessage:
    """One line of the timeline: a status change (old → new), a message, or both."""
    old = request.status
    if status != old:
        request.status = status
        request.save(update_fields=["status", "updated_at"])
    else:
        request.save(update_fields=["updated_at"])
    changed = status != old
    return DomainRequestMessage.objects.create(
        request=request, author=by if by is not None and by.pk else None, by_staff=by_staff, body=body,
        old_status=old if changed else "", new_status=status if changed else "", created_at=now,
    )  # fmt: skip


# E-mails (sent after commit)


def customer_recipients(request: DomainRequest) -> list[str]:
    """The customer's people who may ask for this kind of request, and whoever asked."""
    roles = PERMISSIONS[PERMISSION_FOR_KIND[request.kind]]
    emails = set(
        request.customer.memberships.filter(role__in=roles, user__is_active=True).values_list("user__email", flat=True)
    )
    if request.requested_by_id and request.requested_by.is_active:
        emails.add(request.requested_by.email)
    return sorted(emails)


def staff_recipients() -> list[str]:
    return list(settings.SUPPORT_STAFF_EMAILS) or sorted(
        User.objects.filter(is_staff=True, is_active=True).values_list("email", flat=True)
    )


def _context(request: DomainRequest, **extra) -> dict:
    return {
        "request": request, "domain": display_domain(request.domain), "nameservers": nameservers(),
        "statuses": Status, "kinds": RequestKind, **extra,
    }  # fmt: skip


def _notify_customer(request: DomainRequest, template: str, **extra) -> None:
    to = customer_recipients(request)
    if to:
        link = settings.PORTAL_BASE_URL + request.get_absolute_url()
        mail.send_templated(
            to=to, template_prefix=f"services/email/{template}", context=_context(request, link=link, **extra),
            language=request.customer.preferred_language,
        )  # fmt: skip


def _notify_staff(request: DomainRequest, template: str, **extra) -> None:
    to = staff_recipients()
    if to:
        link = settings.PORTAL_BASE_URL + reverse("admin:services_domainrequest_change", args=[request.pk])
        mail.send_templated(
            to=to, template_prefix=f"services/email/{template}", context=_context(request, link=link, **extra),
            language=settings.LANGUAGE_CODE,
        )  # fmt: skip
