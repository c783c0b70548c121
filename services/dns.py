"""DNS zones on the provider's nameservers (art. 4.3): records, validation, history and zone files.

Records are stored the way a zone file writes them: the name relative to the zone ("@" for the
zone itself, punycode for IDN labels) and the value as dnspython prints the parsed record, with
host names fully qualified (final dot), so that a record reads the same in the editor, in the
history and in the exported file. The zone's SOA and its own NS records are the provider's and
are generated, never stored.

Every change goes through ``add_record``, ``update_record``, ``delete_record`` or ``import_zone``:
atomic, with the zone row locked, refused when the zone changed since the form was rendered
(``StaleZone``), the serial bumped (YYYYMMDDnn) and a ``ZoneChange`` written per record.
"""

import dataclasses
import datetime
import encodings.idna
import ipaddress
import re

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.tokenizer
import dns.ttl
import dns.zone
import dns.zonefile
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from services.models import DnsRecord, DnsZone, Service, ZoneChange

Type = DnsRecord.Type

# SOA timers: refresh 3 h, retry 1 h, expire 2 weeks, negative caching 1 h (RFC 1912, RFC 2308).
SOA_REFRESH, SOA_RETRY, SOA_EXPIRE, SOA_MINIMUM = 10800, 3600, 1209600, 3600
MAX_VALUE_LENGTH = 4000
TXT_CHUNK = 255

# Owner names may carry underscores (_dmarc, _sip._tcp, DKIM selectors); host names may not.
OWNER_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
TARGET_LABEL = {Type.CNAME: OWNER_LABEL, Type.MX: HOST_LABEL, Type.SRV: HOST_LABEL, Type.NS: HOST_LABEL}
TYPE_ORDER = {
    t: i for i, t in enumerate([Type.NS, Type.A, Type.AAAA, Type.CNAME, Type.MX, Type.TXT, Type.SRV, Type.CAA])
}


class StaleZone(ValidationError):
    """The zone changed since the form was rendered: someone else saved meanwhile."""


@dataclasses.dataclass
class ImportResult:
    added: int
    already_present: int
    skipped: int  # SOA and apex NS: the provider's, generated
    serial: int


# Names


def _hints() -> dict[str, str]:
    return {
        Type.A: _("Enter an IPv4 address, e.g. 192.0.2.10."),
        Type.AAAA: _("Enter an IPv6 address, e.g. 2001:db8::10."),
        Type.CNAME: _("Enter the host name this name is an alias of, e.g. www.example.net. or www."),
        Type.MX: _("Enter a priority and the mail server's host name, e.g. 10 mail.example.net."),
        Type.TXT: _("Enter the text, e.g. v=spf1 mx -all."),
        Type.SRV: _("Enter priority, weight, port and target host, e.g. 10 5 5060 sip.example.net."),
        Type.CAA: _('Enter flags, tag and value, e.g. 0 issue "letsencrypt.org".'),
        Type.NS: _("Enter a name server's host name, e.g. ns1.example.net."),
    }


def _ascii_label(label: str) -> str:
    """One label in ASCII: IDN labels to punycode (IDNA 2003, as dnspython without the idna package)."""
    if label.isascii():
        return label
    try:
        return encodings.idna.ToASCII(label).decode("ascii").lower()
    except UnicodeError as error:
        raise ValidationError(_("%(label)s is not a valid international name.") % {"label": label}) from error


def domain_ascii(text: str) -> str:
    """A domain as stored: ASCII (punycode), lower case, no final dot."""
    text = (text or "").strip().lower().rstrip(".")
    labels = text.split(".")
    if len(labels) < 2 or any(not label for label in labels):
        raise ValidationError(_("Enter a domain name, e.g. example.be."))
    ascii_labels = [_ascii_label(label) for label in labels]
    if any(not HOST_LABEL.match(label) for label in ascii_labels) or len(".".join(ascii_labels)) > 253:
        raise ValidationError(_("Enter a domain name, e.g. example.be."))
    return ".".join(ascii_labels)


def normalise_name(zone: DnsZone, text: str) -> str:
    """The record name relative to the zone: "@", "www", "a.b", "*.shop"; raises ValidationError."""
    text = (text or "").strip().lower()
    if text in ("", "@", zone.name, zone.name + "."):
        return "@"
    absolute = text.endswith(".")
    labels = text.rstrip(".").split(".") if text != "." else [""]
    if any(not label for label in labels):
        raise ValidationError(_("A name cannot have an empty label (two dots in a row?)."))
    ascii_labels = [label if label == "*" else _ascii_label(label) for label in labels]
    zone_labels = zone.name.split(".")
    if ascii_labels == zone_labels:
        return "@"
    inside = ascii_labels[-len(zone_labels) :] == zone_labels and len(ascii_labels) > len(zone_labels)
    if absolute and not inside:
        raise ValidationError(
            _("%(name)s is not inside the zone %(zone)s. Use a name like www or www.%(zone)s.")
            % {"name": text, "zone": zone.name}
        )
    if inside:  # "www.acme.be" typed in the zone acme.be means www.acme.be, not www.acme.be.acme.be
        ascii_labels = ascii_labels[: -len(zone_labels)]
    for position, label in enumerate(ascii_labels):
        if label == "*":
            if position:
                raise ValidationError(_("A wildcard * can only be the first label, e.g. *.shop."))
        elif not OWNER_LABEL.match(label):
            raise ValidationError(
                _("%(label)s is not a valid label: use letters, digits, hyphens and underscores (up to 63).")
                % {"label": label}
            )
    relative = ".".join(ascii_labels)
    if len(relative) + 1 + len(zone.name) > 253:
        raise ValidationError(_("This name is too long: a full name has at most 253 characters."))
    return relative


def _origin(zone: DnsZone) -> dns.name.Name:
    return dns.name.from_text(zone.name + ".")


# Values


def _txt(value: str) -> dns.rdata.Rdata:
    """TXT: quoted input is zone-file syntax; anything else is one text. Strings over 255 bytes
    are split into 255-byte strings, which readers concatenate (RFC 7208 3.3, RFC 6376 3.6.2.2)."""
    text = value.strip()
    if text.startswith('"'):
        strings = []
        for token in dns.tokenizer.Tokenizer(text).get_remaining():
            strings.append(token.unescape_to_bytes().value)
    else:
        strings = [text.encode()]
    chunks = [s[i : i + TXT_CHUNK] for s in strings for i in range(0, max(len(s), 1), TXT_CHUNK)]
    return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, chunks)


def _target_attribute(type: str) -> str | None:
    return {Type.CNAME: "target", Type.NS: "target", Type.MX: "exchange", Type.SRV: "target"}.get(type)


def _check_target(zone: DnsZone, type: str, rdata: dns.rdata.Rdata, origin: dns.name.Name) -> dns.rdata.Rdata:
    """Host-name targets: fully qualified, lower case, and never an IP address."""
    attribute = _target_attribute(type)
    if attribute is None:
        return rdata
    target: dns.name.Name = getattr(rdata, attribute).derelativize(origin)
    if target == dns.name.root:
        if type in (Type.MX, Type.SRV):  # "." means no mail / no service (RFC 7505, RFC 2782)
            return rdata
        raise ValidationError(_hints()[type])
    candidates = [target.to_text(omit_final_dot=True)]
    if target.is_subdomain(origin) and target != origin:
        relative = target.relativize(origin)
        candidates.append(relative.to_text())
        zone_labels = origin.labels[:-1]
        if relative.labels[-len(zone_labels) :] == zone_labels and len(relative) > len(zone_labels):
            # "mail.acme.be" typed in the zone acme.be means mail.acme.be.
            target = dns.name.Name((*relative.labels, b""))
    for candidate in candidates:
        try:
            ipaddress.ip_address(candidate.strip("[]"))
        except ValueError:
            continue
        raise ValidationError(
            _("Enter a host name, not an IP address: add an A or AAAA record for %(ip)s and point to its name.")
            % {"ip": candidate}
        )
    labels = [label.decode("ascii", "replace").lower() for label in target.labels[:-1]]
    pattern = TARGET_LABEL[type]
    if not labels or any(not pattern.match(label) for label in labels):
        raise ValidationError(
            _("%(target)s is not a valid host name: use letters, digits and hyphens.")
            % {"target": target.to_text(omit_final_dot=True)}
        )
    return rdata.replace(**{attribute: dns.name.from_text(".".join(labels) + ".")})


def normalise_value(zone: DnsZone, type: str, value: str) -> str:
    """The value parsed by dnspython and printed back in zone-file syntax; raises ValidationError."""
    value = (value or "").strip()
    if not value:
        raise ValidationError(_hints()[type])
    if "\n" in value or "\r" in value:
        raise ValidationError(_("A value is one line."))
    if len(value) > MAX_VALUE_LENGTH:
        raise ValidationError(_("This value is too long (at most %(max)d characters).") % {"max": MAX_VALUE_LENGTH})
    origin = _origin(zone)
    try:
        if type == Type.TXT:
            rdata = _txt(value)
        else:
            rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(type), value, origin=origin)
    except (dns.exception.DNSException, ValueError, UnicodeError, TypeError) as error:
        raise ValidationError(_hints()[type]) from error
    rdata = _check_target(zone, type, rdata, origin)
    if len(rdata.to_wire(origin=origin)) > 65535:
        raise ValidationError(_("This value is too long for one DNS record."))
    return rdata.to_text(origin=origin, relativize=False)


def normalise_ttl(ttl) -> int:
    low, high = settings.DNS_MIN_TTL, settings.DNS_MAX_TTL
    message = _("Enter a TTL in seconds between %(min)d and %(max)d.") % {"min": low, "max": high}
    try:
        seconds = dns.ttl.from_text(str(ttl).strip().lower()) if not isinstance(ttl, int) else ttl
    except (dns.exception.DNSException, ValueError) as error:
        raise ValidationError(message) from error
    if not low <= seconds <= high:
        raise ValidationError(message)
    return seconds


def _normalise(*, zone: DnsZone, name: str, type: str, ttl, value: str) -> dict:
    """Each field on its own; errors collected per field."""
    errors, fields = {}, {}
    type = (str(type or "")).strip().upper()
    if type not in Type.values:
        errors["type"] = _("Choose one of %(types)s.") % {"types": ", ".join(Type.values)}
    else:
        fields["type"] = type
    for field, clean in (
        ("name", lambda: normalise_name(zone, str(name or ""))),
        ("ttl", lambda: normalise_ttl(zone.default_ttl if ttl in (None, "") else ttl)),
        ("value", lambda: normalise_value(zone, type, str(value or "")) if "type" in fields else None),
    ):
        try:
            fields[field] = clean()
        except ValidationError as error:
            errors[field] = error.messages
    if errors:
        raise ValidationError(errors)
    return fields


def _rule_broken(fields: dict, siblings: list[tuple[str, str]]) -> tuple[str, str] | None:
    """(field, message) of the first rule the record breaks, given the other records at its name."""
    name, type = fields["name"], fields["type"]
    if name == "@" and type == Type.CNAME:
        return "name", _("A CNAME cannot be at the zone apex (@): the apex holds the SOA and NS records.")
    if name == "@" and type == Type.NS:
        return "name", _(
            "The zone's own name servers are ours (%(servers)s) and are added automatically; "
            "NS records delegate a subdomain."
        ) % {"servers": ", ".join(settings.DNS_NAMESERVERS)}
    if type == Type.SRV and not re.match(r"^_[a-z0-9-]+\._[a-z0-9-]+(\.|$)", name):
        return "name", _("An SRV record's name starts with _service._protocol, e.g. _sip._tcp or _sip._tcp.office.")
    if (type, fields["value"]) in siblings:
        return "value", _("This record already exists.")
    others = sorted({other for other, _value in siblings})
    if type == Type.CNAME and Type.CNAME in others:
        return "name", _("%(name)s already has a CNAME record: a name has one at most.") % {"name": name}
    if type == Type.CNAME and others:
        return "name", _(
            "%(name)s already has other records (%(types)s): a CNAME must be the only record at its name."
        ) % {"name": name, "types": ", ".join(others)}
    if Type.CNAME in others:
        return "name", _("%(name)s is an alias (CNAME): it cannot have other records. Delete the CNAME first.") % {
            "name": name
        }
    return None


def _check_rules(fields: dict, siblings: list[tuple[str, str]]) -> None:
    broken = _rule_broken(fields, siblings)
    if broken:
        raise ValidationError({broken[0]: broken[1]})


def validate_record(
    *, zone: DnsZone, name: str, type: str, ttl, value: str, replacing: DnsRecord | None = None
) -> dict:
    """The record's fields normalised ({"name", "type", "ttl", "value"}), or ValidationError with a
    message per field. ``replacing``: the record being edited, left out of the duplicate and CNAME rules."""
    fields = _normalise(zone=zone, name=name, type=type, ttl=ttl, value=value)
    siblings = zone.records.filter(name=fields["name"])
    if replacing is not None:
        siblings = siblings.exclude(pk=replacing.pk)
    _check_rules(fields, list(siblings.values_list("type", "value")))
    return fields


# Serial and history


def next_serial(current: int, today: datetime.date) -> int:
    """YYYYMMDDnn: today's first serial, or one more than the current one; never lower."""
    return max(current + 1, int(today.strftime("%Y%m%d")) * 100 + 1)


def record_text(name: str, ttl: int, type: str, value: str) -> str:
    return f"{name} {ttl} {type} {value}"


def _locked(zone: DnsZone, expected_serial) -> DnsZone:
    locked = DnsZone.objects.select_for_update().get(pk=zone.pk)
    try:
        expected = int(expected_serial)
    except (TypeError, ValueError):
        expected = None
    if expected != locked.serial:
        raise StaleZone(
            _(
                "Someone changed this zone since you opened the page (its serial is now %(serial)s): "
                "nothing was saved. Reload the page to see their change, then make yours again."
            )
            % {"serial": locked.serial},
            code="stale",
        )
    return locked


def _bump(zone: DnsZone, locked: DnsZone, today: datetime.date | None) -> int:
    locked.serial = next_serial(locked.serial, today or timezone.localdate())
    locked.save(update_fields=["serial", "updated_at"])
    zone.serial = locked.serial  # the caller's instance follows, so chained calls pass the new serial
    return locked.serial


def _change(zone: DnsZone, action: str, *, old: str = "", new: str = "", by, ticket) -> ZoneChange:
    return ZoneChange.objects.create(
        zone=zone, actor=by, action=action, old_value=old, new_value=new, serial=zone.serial, ticket=ticket
    )


def _share_ttl(zone: DnsZone, record: DnsRecord, *, by, ticket) -> None:
    """The records of one name and type are one RRset with one TTL (RFC 2181 5.2): the others follow."""
    for other in zone.records.filter(name=record.name, type=record.type).exclude(pk=record.pk).exclude(ttl=record.ttl):
        old = str(other)
        other.ttl = record.ttl
        other.save(update_fields=["ttl"])
        _change(zone, ZoneChange.Action.CHANGED, old=old, new=str(other), by=by, ticket=ticket)


def _audit(action: str, zone: DnsZone, *, by, ticket, **details) -> None:
    if ticket is not None:
        details["ticket"] = ticket.number
    customer = Service.objects.select_related("customer").get(pk=zone.service_id).customer
    audit.record(action, actor=by, customer=customer, obj=zone, serial=zone.serial, **details)


# Writes


@transaction.atomic
def create_zone(*, service: Service, name: str, by=None, today: datetime.date | None = None) -> DnsZone:
    """The zone of a domain on our nameservers, serial YYYYMMDD01 of today; the existing one if any."""
    name = domain_ascii(name)
    existing = DnsZone.objects.filter(service=service).first()
    if existing is not None:
        if existing.name != name:
            raise ValidationError({"name": _("This service already has the zone %(zone)s.") % {"zone": existing.name}})
        return existing
    if DnsZone.objects.filter(name=name).exists():
        raise ValidationError({"name": _("The zone %(zone)s is already hosted on our nameservers.") % {"zone": name}})
    zone = DnsZone.objects.create(service=service, name=name, serial=next_serial(0, today or timezone.localdate()))
    audit.record("dns.zone_created", actor=by, customer=service.customer, obj=zone, serial=zone.serial)
    return zone


@transaction.atomic
def add_record(
    *, zone: DnsZone, name: str, type: str, ttl, value: str, expected_serial, by, ticket=None,
    today: datetime.date | None = None,
) -> DnsRecord:  # fmt: skip
    locked = _locked(zone, expected_serial)
    fields = validate_record(zone=locked, name=name, type=type, ttl=ttl, value=value)
    _bump(zone, locked, today)
    record = DnsRecord.objects.create(zone=locked, **fields)
    _change(locked, ZoneChange.Action.ADDED, new=str(record), by=by, ticket=ticket)
    _share_ttl(locked, record, by=by, ticket=ticket)
    _audit("dns.record_added", locked, by=by, ticket=ticket, record=str(record))
    return record


@transaction.atomic
def update_record(
    *, zone: DnsZone, record: DnsRecord, name: str, type: str, ttl, value: str, expected_serial, by,
    ticket=None, today: datetime.date | None = None,
) -> DnsRecord:  # fmt: skip
    locked = _locked(zone, expected_serial)
    record = DnsRecord.objects.select_for_update().get(pk=record.pk, zone=locked)
    fields = validate_record(zone=locked, name=name, type=type, ttl=ttl, value=value, replacing=record)
    if all(getattr(record, key) == fields[key] for key in fields):
        return record
    old = str(record)
    for key, new in fields.items():
        setattr(record, key, new)
    _bump(zone, locked, today)
    record.save(update_fields=list(fields))
    _change(locked, ZoneChange.Action.CHANGED, old=old, new=str(record), by=by, ticket=ticket)
    _share_ttl(locked, record, by=by, ticket=ticket)
    _audit("dns.record_changed", locked, by=by, ticket=ticket, old=old, record=str(record))
    return record


@transaction.atomic
def delete_record(
    *, zone: DnsZone, record: DnsRecord, expected_serial, by, ticket=None, today: datetime.date | None = None
) -> None:
    locked = _locked(zone, expected_serial)
    record = DnsRecord.objects.select_for_update().get(pk=record.pk, zone=locked)
    old = str(record)
    _bump(zone, locked, today)
    record.delete()
    _change(locked, ZoneChange.Action.DELETED, old=old, by=by, ticket=ticket)
    _audit("dns.record_deleted", locked, by=by, ticket=ticket, old=old)


# Zone files


def zone_of(zone_or_domain: DnsZone | Service | str) -> DnsZone:
    if isinstance(zone_or_domain, DnsZone):
        return zone_or_domain
    if isinstance(zone_or_domain, Service):
        return zone_or_domain.zone
    return DnsZone.objects.get(name=domain_ascii(zone_or_domain))


def _absolute(host: str) -> str:
    return host.strip().rstrip(".") + "."


def _hostmaster() -> str:
    """The SOA RNAME: hostmaster.example or hostmaster@example, as a DNS name."""
    local, at, domain = settings.DNS_HOSTMASTER.strip().rpartition("@")
    if not at:
        return _absolute(domain)
    return _absolute(local.replace(".", "\\.") + "." + domain)


def _sort_key(row: tuple) -> tuple:
    name, _ttl, type, value = row
    labels = () if name == "@" else tuple(reversed(name.split(".")))
    return (labels, TYPE_ORDER.get(type, 99), value)


def zone_text(zone_or_domain: DnsZone | Service | str) -> str:
    """The zone in standard zone-file format (RFC 1035 5), as ``named-checkzone`` reads it."""
    zone = zone_of(zone_or_domain)
    servers = [_absolute(server) for server in settings.DNS_NAMESERVERS]
    lines = [
        f"; {zone.name}: generated by the hosting portal",
        f"$ORIGIN {zone.name}.",
        f"$TTL {zone.default_ttl}",
        f"@\t{zone.default_ttl}\tIN\tSOA\t{servers[0]} {_hostmaster()} "
        f"{zone.serial} {SOA_REFRESH} {SOA_RETRY} {SOA_EXPIRE} {SOA_MINIMUM}",
    ]
    lines += [f"@\t{zone.default_ttl}\tIN\tNS\t{server}" for server in servers]
    rows = sorted(
        DnsRecord.objects.filter(zone=zone).order_by().values_list("name", "ttl", "type", "value"), key=_sort_key
    )
    lines += [f"{name}\t{ttl}\tIN\t{type}\t{value}" for name, ttl, type, value in rows]
    return "\n".join(lines) + "\n"


def _read_zone_file(zone: DnsZone, text: str) -> list[tuple[str, int, str, str]]:
    """(name, ttl, type, value) of every record of the file, SOA and apex NS included."""
    try:
        parsed = dns.zone.from_text(
            text, origin=_origin(zone), relativize=True, check_origin=False, filename="zone", allow_include=False
        )
    except dns.exception.SyntaxError as error:
        detail = re.sub(r"^zone:(\d+): ", "", str(error))
        line = re.match(r"^zone:(\d+): ", str(error))
        if line:
            raise ValidationError(
                _("The zone file could not be read near line %(line)s: %(detail)s")
                % {"line": line.group(1), "detail": detail}
            ) from error
        raise ValidationError(_("The zone file could not be read: %(detail)s") % {"detail": detail}) from error
    except dns.zonefile.CNAMEAndOtherData as error:
        raise ValidationError(
            _("The zone file has a name with a CNAME and other records: a CNAME must be the only record at its name.")
        ) from error
    except (dns.exception.DNSException, ValueError, UnicodeError, KeyError) as error:
        raise ValidationError(_("The zone file could not be read: %(detail)s") % {"detail": error}) from error
    origin = _origin(zone)
    rows = []
    for name, ttl, rdata in parsed.iterate_rdatas():
        type = dns.rdatatype.to_text(rdata.rdtype)
        rows.append((name.to_text() if name != dns.name.empty else "@", ttl, type, rdata.to_text(origin=origin)))
    return rows


@transaction.atomic
def import_zone(
    domain: DnsZone | Service | str, text: str, *, by, dry_run: bool = False, today: datetime.date | None = None
) -> ImportResult:
    """Add the records of a zone file after validating all of them: one invalid record and nothing is
    imported (ValidationError naming it). SOA and apex NS are the provider's and skipped; records
    already in the zone are left as they are. One serial bump for the whole import."""
    zone = zone_of(domain)
    locked = DnsZone.objects.select_for_update().get(pk=zone.pk)
    existing: dict[str, list[tuple[str, str]]] = {}
    for name, type, value in locked.records.order_by().values_list("name", "type", "value"):
        existing.setdefault(name, []).append((type, value))
    errors, new, present, skipped = [], [], 0, 0
    for name, ttl, type, value in _read_zone_file(locked, text):
        line = record_text(name, ttl, type, value)
        if type == "SOA" or (type == "NS" and name == "@"):
            skipped += 1
            continue
        if type not in Type.values:
            errors.append(_("%(record)s: %(type)s records are not supported.") % {"record": line, "type": type})
            continue
        try:
            fields = _normalise(zone=locked, name=name, type=type, ttl=ttl, value=value)
            siblings = existing.setdefault(fields["name"], [])
            if (fields["type"], fields["value"]) in siblings:
                present += 1
                continue
            _check_rules(fields, siblings)
        except ValidationError as error:
            errors.append(f"{line}: {' '.join(error.messages)}")
            continue
        siblings.append((fields["type"], fields["value"]))
        new.append(fields)
    if errors:
        raise ValidationError(errors)
    if new and not dry_run:
        _bump(zone, locked, today)
        records = DnsRecord.objects.bulk_create(DnsRecord(zone=locked, **fields) for fields in new)
        ZoneChange.objects.bulk_create(
            ZoneChange(zone=locked, actor=by, action=ZoneChange.Action.IMPORTED, new_value=str(r), serial=locked.serial)
            for r in records
        )
        for record in {(r.name, r.type): r for r in records}.values():
            _share_ttl(locked, record, by=by, ticket=None)
        _audit("dns.zone_imported", locked, by=by, ticket=None, added=len(new))
    return ImportResult(added=len(new), already_present=present, skipped=skipped, serial=locked.serial)
