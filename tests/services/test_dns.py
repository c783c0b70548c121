"""services.dns: validation of records, serials, history, zone files and imports (art. 4.3)."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import AuditEvent
from services import dns
from services.models import DnsRecord, DnsZone, Kind, ZoneChange
from tests.factories import PlanFactory, ServiceFactory

TODAY = datetime.date(2026, 11, 27)


@pytest.fixture
def domain(customer):
    return ServiceFactory(customer=customer, name="acme.be", plan=PlanFactory(kind=Kind.DOMAIN))


@pytest.fixture
def zone(domain):
    return dns.create_zone(service=domain, name="acme.be", today=TODAY)


def add(zone, name, type, value, ttl=3600, by=None, today=TODAY, **kwargs):
    return dns.add_record(
        zone=zone, name=name, type=type, ttl=ttl, value=value, expected_serial=zone.serial, by=by, today=today,
        **kwargs,
    )  # fmt: skip


def errors_of(zone, name="www", type="A", value="192.0.2.10", ttl=3600, **kwargs) -> dict:
    with pytest.raises(ValidationError) as caught:
        dns.validate_record(zone=zone, name=name, type=type, ttl=ttl, value=value, **kwargs)
    return caught.value.message_dict


def valid(zone, name="www", type="A", value="192.0.2.10", ttl=3600) -> dict:
    return dns.validate_record(zone=zone, name=name, type=type, ttl=ttl, value=value)


# Creating a zone


@pytest.mark.django_db
def test_a_new_zone_gets_the_first_serial_of_the_day_and_no_records(zone, domain):
    assert (zone.name, zone.serial, zone.service) == ("acme.be", 2026112701, domain)
    assert not zone.records.exists()
    assert AuditEvent.objects.filter(action="dns.zone_created", customer=domain.customer).exists()


@pytest.mark.django_db
def test_creating_the_zone_twice_returns_the_same_zone(zone, domain):
    assert dns.create_zone(service=domain, name="ACME.be.", today=TODAY) == zone
    assert DnsZone.objects.count() == 1


@pytest.mark.django_db
def test_a_zone_name_is_stored_in_punycode_and_hosted_once(customer):
    service = ServiceFactory(customer=customer, name="café.be", plan=PlanFactory(kind=Kind.DOMAIN))
    assert dns.create_zone(service=service, name="Café.be", today=TODAY).name == "xn--caf-dma.be"
    other = ServiceFactory(customer=customer, name="café.be again", plan=service.plan)
    with pytest.raises(ValidationError, match="already hosted"):
        dns.create_zone(service=other, name="xn--caf-dma.be", today=TODAY)
    with pytest.raises(ValidationError, match="Enter a domain name"):
        dns.create_zone(service=other, name="not a domain", today=TODAY)


# Names


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("@", "@"),
        ("", "@"),
        ("acme.be.", "@"),
        ("www", "www"),
        ("WWW", "www"),
        ("a.b", "a.b"),
        ("www.acme.be", "www"),
        ("www.acme.be.", "www"),
        ("*", "*"),
        ("*.shop", "*.shop"),
        ("café", "xn--caf-dma"),
        ("boutique.café.acme.be.", "boutique.xn--caf-dma"),
        ("_dmarc", "_dmarc"),
    ],
)
def test_names_are_stored_relative_to_the_zone_in_lower_case_and_punycode(zone, typed, stored):
    assert valid(zone, name=typed)["name"] == stored


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("www.other.be.", "is not inside the zone acme.be"),
        ("a.*", "A wildcard * can only be the first label"),
        ("a..b", "empty label"),
        ("-www", "is not a valid label"),
        ("w w", "is not a valid label"),
        ("x" * 64, "is not a valid label"),
        (".".join(["abcdefghij"] * 23), "This name is too long"),
    ],
)
def test_names_outside_the_zone_or_malformed_are_refused_with_a_message(zone, typed, message):
    assert message in " ".join(errors_of(zone, name=typed)["name"])


# Values, per type


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("type", "typed", "stored"),
    [
        ("A", " 192.0.2.10 ", "192.0.2.10"),
        ("AAAA", "2001:DB8:0:0::10", "2001:db8::10"),
        ("CNAME", "www", "www.acme.be."),
        ("CNAME", "Shop.Example.NET.", "shop.example.net."),
        ("CNAME", "s1._domainkey.mailer.example.", "s1._domainkey.mailer.example."),
        ("MX", "10 mail", "10 mail.acme.be."),
        ("MX", "10 mail.acme.be", "10 mail.acme.be."),
        ("MX", "0 .", "0 ."),
        ("SRV", "10 5 5060 sip.example.net.", "10 5 5060 sip.example.net."),
        ("CAA", '0 issue "letsencrypt.org"', '0 issue "letsencrypt.org"'),
        ("NS", "ns1.example.net.", "ns1.example.net."),
        ("TXT", "v=spf1 include:_spf.example.net ~all", '"v=spf1 include:_spf.example.net ~all"'),
        ("TXT", '"two" "strings"', '"two" "strings"'),
        ("TXT", 'say "hi"; \\o/', '"say \\"hi\\"; \\\\o/"'),
    ],
)
def test_values_are_parsed_by_dnspython_and_stored_in_zone_file_syntax(zone, type, typed, stored):
    name = "_sip._tcp" if type == "SRV" else "sub"
    assert valid(zone, name=name, type=type, value=typed)["value"] == stored


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("type", "typed", "message"),
    [
        ("A", "192.0.2.300", "Enter an IPv4 address"),
        ("A", "2001:db8::1", "Enter an IPv4 address"),
        ("AAAA", "192.0.2.1", "Enter an IPv6 address"),
        ("MX", "mail.example.net.", "Enter a priority and the mail server's host name"),
        ("SRV", "10 5 sip.example.net.", "Enter priority, weight, port and target host"),
        ("CAA", "0 issue", "Enter flags, tag and value"),
        ("TXT", '"unterminated', "Enter the text"),
        ("A", "", "Enter an IPv4 address"),
        ("CNAME", ".", "Enter the host name this name is an alias of"),
        ("TXT", "line\nbreak", "A value is one line"),
        ("TXT", "x" * 4001, "This value is too long"),
    ],
)
def test_values_that_do_not_parse_get_the_types_hint(zone, type, typed, message):
    name = "_sip._tcp" if type == "SRV" else "sub"
    assert message in " ".join(errors_of(zone, name=name, type=type, value=typed)["value"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("type", "typed"),
    [
        ("MX", "10 192.0.2.25"),
        ("MX", "10 192.0.2.25."),
        ("SRV", "10 5 443 192.0.2.25."),
        ("NS", "192.0.2.53"),
        ("NS", "2001:db8::53"),
        ("CNAME", "192.0.2.80."),
    ],
)
def test_mx_srv_ns_and_cname_targets_must_be_host_names_not_ip_addresses(zone, type, typed):
    name = "_https._tcp" if type == "SRV" else "sub"
    assert "Enter a host name, not an IP address" in " ".join(
        errors_of(zone, name=name, type=type, value=typed)["value"]
    )


@pytest.mark.django_db
def test_host_name_targets_have_letters_digits_and_hyphens_only(zone):
    assert "is not a valid host name" in " ".join(errors_of(zone, type="MX", value="10 mail_1.example.net.")["value"])
    assert "is not a valid host name" in " ".join(errors_of(zone, type="CNAME", value="*.example.net.")["value"])


@pytest.mark.django_db
def test_a_txt_value_longer_than_255_bytes_is_split_into_quoted_255_byte_strings(zone):
    text = "v=DKIM1; k=rsa; p=" + "A" * 582  # 600 bytes
    stored = valid(zone, name="s1._domainkey", type="TXT", value=text)["value"]
    assert stored == f'"{text[:255]}" "{text[255:510]}" "{text[510:]}"'
    # Quoted strings that are too long are split too, and saving the stored value again changes nothing.
    assert valid(zone, name="s1._domainkey", type="TXT", value=f'"{text}"')["value"] == stored
    assert valid(zone, name="s1._domainkey", type="TXT", value=stored)["value"] == stored


@pytest.mark.django_db
def test_txt_quotes_backslashes_and_non_ascii_are_escaped(zone):
    assert valid(zone, type="TXT", value='a "quoted" \\ word')["value"] == '"a \\"quoted\\" \\\\ word"'
    assert valid(zone, type="TXT", value="café")["value"] == '"caf\\195\\169"'


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ttl", "ok"), [(59, False), (60, True), (86400, True), (86401, False), ("1h", True), ("x", False)]
)
def test_the_ttl_must_be_within_the_settings_bounds(zone, ttl, ok, settings):
    settings.DNS_MIN_TTL, settings.DNS_MAX_TTL = 60, 86400
    if ok:
        assert valid(zone, ttl=ttl)["ttl"] == (3600 if ttl == "1h" else ttl)
    else:
        assert errors_of(zone, ttl=ttl)["ttl"] == ["Enter a TTL in seconds between 60 and 86400."]


@pytest.mark.django_db
def test_an_empty_ttl_means_the_zones_default(zone):
    assert valid(zone, ttl="")["ttl"] == zone.default_ttl


@pytest.mark.django_db
def test_an_unknown_type_is_refused(zone):
    assert "Choose one of A, AAAA, CNAME, MX, TXT, SRV, CAA, NS." in errors_of(zone, type="PTR")["type"]


@pytest.mark.django_db
def test_every_field_in_error_is_reported_at_once(zone):
    assert set(errors_of(zone, name="a.*", ttl=1, value="nope")) == {"name", "ttl", "value"}


# Rules between records


@pytest.mark.django_db
def test_a_cname_is_never_at_the_apex(zone):
    assert "A CNAME cannot be at the zone apex" in errors_of(zone, name="@", type="CNAME", value="www")["name"][0]


@pytest.mark.django_db
def test_a_cname_is_alone_at_its_name(zone):
    add(zone, "www", "A", "192.0.2.10")
    add(zone, "shop", "CNAME", "shops.example.net.")
    assert (
        "a CNAME must be the only record at its name"
        in errors_of(zone, name="www", type="CNAME", value="x.")["name"][0]
    )
    assert "is an alias (CNAME)" in errors_of(zone, name="shop", type="TXT", value="hello")["name"][0]
    assert "a name has one at most" in errors_of(zone, name="shop", type="CNAME", value="other.example.net.")["name"][0]


@pytest.mark.django_db
def test_an_exact_duplicate_is_refused_but_the_same_name_and_type_with_another_value_is_fine(zone):
    add(zone, "www", "A", "192.0.2.10")
    assert errors_of(zone, name="WWW.acme.be.", value=" 192.0.2.10", ttl=300) == {
        "value": ["This record already exists."]
    }
    assert valid(zone, value="192.0.2.11")["value"] == "192.0.2.11"


@pytest.mark.django_db
def test_ns_records_at_the_apex_are_the_providers_and_refused_but_subdomains_can_be_delegated(zone, settings):
    settings.DNS_NAMESERVERS = ["ns1.provider.example", "ns2.provider.example"]
    message = errors_of(zone, name="@", type="NS", value="ns1.other.example.")["name"][0]
    assert "ns1.provider.example, ns2.provider.example" in message
    assert valid(zone, name="lab", type="NS", value="ns1.other.example.")["value"] == "ns1.other.example."


@pytest.mark.django_db
def test_an_srv_name_starts_with_service_and_protocol(zone):
    assert "_service._protocol" in errors_of(zone, name="sip", type="SRV", value="1 1 5060 sip.example.net.")["name"][0]
    assert (
        valid(zone, name="_sip._tcp.office", type="SRV", value="1 1 5060 sip.example.net.")["name"]
        == "_sip._tcp.office"
    )


@pytest.mark.django_db
def test_editing_a_record_does_not_count_itself_as_a_duplicate_or_a_neighbour(zone):
    record = add(zone, "shop", "CNAME", "shops.example.net.")
    fields = dns.validate_record(
        zone=zone, name="shop", type="CNAME", ttl=60, value="shops.example.net.", replacing=record
    )
    assert fields["ttl"] == 60


# Serials, conflicts and history


def test_the_serial_is_todays_date_with_a_two_digit_counter_and_never_decreases():
    today = datetime.date(2026, 11, 27)
    assert dns.next_serial(0, today) == 2026112701
    assert dns.next_serial(2026112701, today) == 2026112702
    assert dns.next_serial(2026110503, today) == 2026112701  # an older day starts today at 01
    assert dns.next_serial(2026112799, today) == 2026112800  # the 100th change of the day borrows tomorrow
    assert dns.next_serial(2026112805, today) == 2026112806  # never lower, even after that


@pytest.mark.django_db
def test_each_change_bumps_the_serial_and_keeps_who_what_old_and_new_value(zone, owner):
    record = add(zone, "www", "A", "192.0.2.10", by=owner)
    assert zone.serial == 2026112702
    record = dns.update_record(
        zone=zone, record=record, name="www", type="A", ttl=300, value="192.0.2.11", expected_serial=zone.serial,
        by=owner, today=TODAY,
    )  # fmt: skip
    assert zone.serial == 2026112703
    dns.delete_record(
        zone=zone, record=record, expected_serial=zone.serial, by=owner, today=TODAY + datetime.timedelta(1)
    )
    zone.refresh_from_db()
    assert zone.serial == 2026112801
    history = list(zone.changes.order_by("pk").values_list("action", "actor", "old_value", "new_value", "serial"))
    assert history == [
        ("added", owner.pk, "", "www 3600 A 192.0.2.10", 2026112702),
        ("changed", owner.pk, "www 3600 A 192.0.2.10", "www 300 A 192.0.2.11", 2026112703),
        ("deleted", owner.pk, "www 300 A 192.0.2.11", "", 2026112801),
    ]
    actions = AuditEvent.objects.filter(customer=zone.service.customer).values_list("action", flat=True)
    assert {"dns.record_added", "dns.record_changed", "dns.record_deleted"} <= set(actions)


@pytest.mark.django_db
def test_a_save_against_an_older_serial_is_refused_and_changes_nothing(zone, owner, technical_member):
    seen = zone.serial
    record = add(zone, "www", "A", "192.0.2.10", by=technical_member)  # someone saves meanwhile
    with pytest.raises(dns.StaleZone, match="Reload the page to see their change"):
        dns.add_record(zone=zone, name="www", type="A", ttl=3600, value="192.0.2.99", expected_serial=seen, by=owner)
    with pytest.raises(dns.StaleZone):
        dns.update_record(
            zone=zone, record=record, name="www", type="A", ttl=3600, value="192.0.2.99", expected_serial=seen, by=owner
        )
    with pytest.raises(dns.StaleZone):
        dns.delete_record(zone=zone, record=record, expected_serial=seen, by=owner)
    with pytest.raises(dns.StaleZone):
        dns.delete_record(zone=zone, record=record, expected_serial="not a number", by=owner)
    assert list(zone.records.values_list("value", flat=True)) == ["192.0.2.10"]
    assert zone.changes.count() == 1


@pytest.mark.django_db
def test_an_invalid_change_changes_neither_the_serial_nor_the_history(zone, owner):
    serial = zone.serial
    with pytest.raises(ValidationError):
        add(zone, "@", "CNAME", "www", by=owner)
    zone.refresh_from_db()
    assert zone.serial == serial and not zone.changes.exists()


@pytest.mark.django_db
def test_saving_a_record_unchanged_is_not_a_change(zone, owner):
    record = add(zone, "www", "A", "192.0.2.10", by=owner)
    serial = zone.serial
    dns.update_record(
        zone=zone, record=record, name="www.acme.be.", type="a", ttl="1h", value="192.0.2.10", expected_serial=serial,
        by=owner,
    )  # fmt: skip
    zone.refresh_from_db()
    assert zone.serial == serial and zone.changes.count() == 1


@pytest.mark.django_db
def test_records_of_one_name_and_type_share_the_ttl_of_the_last_change(zone, owner):
    add(zone, "www", "A", "192.0.2.10", ttl=3600, by=owner)
    add(zone, "www", "A", "192.0.2.11", ttl=300, by=owner)
    assert set(zone.records.values_list("ttl", flat=True)) == {300}
    assert zone.changes.filter(
        action="changed", old_value="www 3600 A 192.0.2.10", new_value="www 300 A 192.0.2.10"
    ).exists()


@pytest.mark.django_db
def test_a_change_made_by_staff_for_a_ticket_names_the_ticket(zone, owner, staff_user):
    from support import tickets
    from support.models import InterventionType

    reason = InterventionType.objects.get(code="domains-records-update")
    ticket = tickets.open_ticket(
        customer=zone.service.customer, opened_by=owner, reason=reason, priority="standard", subject="Add the MX",
        description="Please.",
    )  # fmt: skip
    add(zone, "@", "MX", "10 mail.example.net.", by=staff_user, ticket=ticket)
    assert ZoneChange.objects.get().ticket == ticket


# The zone file


@pytest.mark.django_db
def test_the_zone_file_has_origin_ttl_soa_our_name_servers_and_the_records_sorted(zone, settings):
    settings.DNS_NAMESERVERS = ["ns1.provider.example", "ns2.provider.example."]
    settings.DNS_HOSTMASTER = "hostmaster.provider.example"
    add(zone, "www", "A", "192.0.2.10")
    add(zone, "@", "MX", "10 mail")
    add(zone, "@", "A", "192.0.2.1")
    add(zone, "mail", "A", "192.0.2.25")
    add(zone, "*.shop", "CNAME", "shops.example.net.")
    lines = dns.zone_text(zone).splitlines()
    assert lines[1:] == [
        "$ORIGIN acme.be.",
        "$TTL 3600",
        "@\t3600\tIN\tSOA\tns1.provider.example. hostmaster.provider.example. 2026112706 10800 3600 1209600 3600",
        "@\t3600\tIN\tNS\tns1.provider.example.",
        "@\t3600\tIN\tNS\tns2.provider.example.",
        "@\t3600\tIN\tA\t192.0.2.1",
        "@\t3600\tIN\tMX\t10 mail.acme.be.",
        "mail\t3600\tIN\tA\t192.0.2.25",
        "*.shop\t3600\tIN\tCNAME\tshops.example.net.",
        "www\t3600\tIN\tA\t192.0.2.10",
    ]
    assert lines[0].startswith(";")


@pytest.mark.django_db
def test_the_zone_file_is_found_by_zone_service_or_domain_name(zone, domain):
    assert dns.zone_text(zone) == dns.zone_text(domain) == dns.zone_text("ACME.be.")


@pytest.mark.django_db
def test_a_hostmaster_e_mail_address_becomes_the_soa_mailbox_name(zone, settings):
    settings.DNS_HOSTMASTER = "dns.admin@provider.example"
    assert "dns\\.admin.provider.example." in dns.zone_text(zone)


@pytest.mark.django_db
def test_the_zone_file_of_5000_records_is_written_in_under_a_second(zone):
    import time

    DnsRecord.objects.bulk_create(
        DnsRecord(zone=zone, name=f"host{i}", type="A", ttl=3600, value=f"10.0.{i // 256}.{i % 256}")
        for i in range(5000)
    )
    start = time.perf_counter()
    text = dns.zone_text(zone)
    assert time.perf_counter() - start < 1.0
    assert text.count("\tIN\tA\t") == 5000


# Importing a zone file

ZONE_FILE = """\
$ORIGIN acme.be.
$TTL 3600
@       IN SOA ns1.elsewhere.example. hostmaster.elsewhere.example. 2024010101 7200 3600 1209600 3600
@       IN NS  ns1.elsewhere.example.
@       IN NS  ns2.elsewhere.example.
@       IN A   192.0.2.1
www 300 IN A   192.0.2.10
www 300 IN A   192.0.2.11
@       IN MX  10 mail
mail    IN A   192.0.2.25
@       IN TXT "v=spf1 mx -all"
lab     IN NS  ns1.lab.example.net.
"""


@pytest.mark.django_db
def test_import_adds_every_record_but_soa_and_apex_ns_with_one_serial_bump(zone, owner):
    result = dns.import_zone(zone, ZONE_FILE, by=owner, today=TODAY)
    assert (result.added, result.already_present, result.skipped, result.serial) == (7, 0, 3, 2026112702)
    assert sorted(zone.records.values_list("name", "type", "ttl", "value")) == [
        ("@", "A", 3600, "192.0.2.1"),
        ("@", "MX", 3600, "10 mail.acme.be."),
        ("@", "TXT", 3600, '"v=spf1 mx -all"'),
        ("lab", "NS", 3600, "ns1.lab.example.net."),
        ("mail", "A", 3600, "192.0.2.25"),
        ("www", "A", 300, "192.0.2.10"),
        ("www", "A", 300, "192.0.2.11"),
    ]
    changes = zone.changes.all()
    assert {(c.action, c.serial, c.actor) for c in changes} == {("imported", 2026112702, owner)}
    assert len(changes) == 7


@pytest.mark.django_db
def test_importing_the_same_file_twice_adds_nothing_the_second_time(zone, owner):
    dns.import_zone(zone, ZONE_FILE, by=owner, today=TODAY)
    serial = zone.serial
    result = dns.import_zone(zone, ZONE_FILE, by=owner, today=TODAY)
    assert (result.added, result.already_present) == (0, 7)
    zone.refresh_from_db()
    assert zone.serial == serial and zone.records.count() == 7


@pytest.mark.django_db
def test_an_exported_zone_imports_into_an_empty_zone_unchanged(zone, owner, customer):
    dns.import_zone(zone, ZONE_FILE, by=owner, today=TODAY)
    other = dns.create_zone(
        service=ServiceFactory(customer=customer, name="acme.com", plan=zone.service.plan), name="acme.com"
    )
    dns.import_zone(other, dns.zone_text(zone).replace("acme.be.", "acme.com."), by=owner)
    assert sorted(other.records.values_list("name", "type", "value")) == sorted(
        (n, t, v.replace("acme.be.", "acme.com.")) for n, t, v in zone.records.values_list("name", "type", "value")
    )


@pytest.mark.django_db
def test_import_is_all_or_nothing_and_names_each_invalid_record(zone, owner):
    bad = "$TTL 3600\nwww IN A 192.0.2.10\n@ IN CNAME www\nftp IN MX 10 192.0.2.21\nptr IN PTR host.example.\n"
    with pytest.raises(ValidationError) as caught:
        dns.import_zone(zone, bad, by=owner)
    messages = caught.value.messages
    assert any(m.startswith("@ 3600 CNAME www: A CNAME cannot be at the zone apex") for m in messages)
    assert any(m.startswith("ftp 3600 MX 10 192.0.2.21: Enter a host name, not an IP address") for m in messages)
    assert any("PTR records are not supported" in m for m in messages)
    zone.refresh_from_db()
    assert not zone.records.exists() and not zone.changes.exists() and zone.serial == 2026112701


@pytest.mark.django_db
def test_import_checks_the_records_of_the_file_against_each_other_and_the_zone(zone, owner):
    add(zone, "shop", "A", "192.0.2.50")
    message = re.escape("shop 3600 CNAME shops.example.net.: shop already has other records")
    with pytest.raises(ValidationError, match=message):
        dns.import_zone(zone, "$TTL 3600\nshop IN CNAME shops.example.net.\n", by=owner)
    with pytest.raises(ValidationError, match="zone file has a name with a CNAME and other records"):
        dns.import_zone(zone, "$TTL 3600\nblog IN A 192.0.2.7\nblog IN CNAME blogs.example.net.\n", by=owner)
    # The same record written twice in two ways is added once.
    result = dns.import_zone(zone, "$TTL 3600\nmx IN MX 10 mail\nmx IN MX 10 mail.acme.be.\n", by=owner)
    assert result.added == 1 and zone.records.filter(name="mx").count() == 1


@pytest.mark.django_db
def test_a_zone_file_that_does_not_parse_says_near_which_line(zone, owner):
    with pytest.raises(ValidationError, match="could not be read near line 3"):
        dns.import_zone(zone, "$TTL 3600\nok IN A 192.0.2.1\nbad IN A 192.0.2.999", by=owner)
    with pytest.raises(ValidationError, match=r"\$INCLUDE"):
        dns.import_zone(zone, "$INCLUDE /etc/passwd\n", by=owner)


@pytest.mark.django_db
def test_a_dry_run_import_validates_and_counts_but_adds_nothing(zone, owner):
    result = dns.import_zone(zone, ZONE_FILE, by=owner, dry_run=True)
    assert result.added == 7
    assert not zone.records.exists() and zone.serial == 2026112701


# Hypothesis: whatever is typed, validation answers with ValidationError or normalised fields

NAMES = st.one_of(
    st.text(max_size=80),
    st.from_regex(r"\A(\*\.)?[a-zA-Z0-9_-]{1,20}(\.[a-zA-Z0-9_-]{1,20}){0,3}(\.acme\.be\.?)?\Z"),
    st.sampled_from(["@", "", "*", "acme.be.", "café", "_sip._tcp", "..", "."]),
)
VALUES = st.one_of(
    st.text(max_size=300),
    st.from_regex(r"\A\d{1,5} [a-z0-9.:_-]{0,40}\Z"),
    st.from_regex(r"\A(\d{1,3}\.){3}\d{1,3}\Z"),
    st.from_regex(r'\A("[^"\n]{0,300}" ?){1,3}\Z'),
    st.sampled_from(['0 issue "letsencrypt.org"', "10 5 5060 sip.example.net.", "2001:db8::1", "\\", '"', "(", ";"]),
)
TYPES = st.one_of(st.sampled_from(DnsRecord.Type.values), st.text(max_size=6))
TTLS = st.one_of(st.integers(min_value=-(2**40), max_value=2**40), st.text(max_size=12), st.none())


@pytest.mark.django_db
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES, type=TYPES, ttl=TTLS, value=VALUES)
def test_validation_raises_only_validation_errors_whatever_is_typed(zone, name, type, ttl, value):
    try:
        fields = dns.validate_record(zone=zone, name=name, type=type, ttl=ttl, value=value)
    except ValidationError:
        return
    # What validation accepts is stable: validating the stored form again gives the same fields.
    assert dns.validate_record(zone=zone, **fields) == fields


# Staff changing a zone for a ticket (art. 4, annex 1: "Mise à jour des enregistrements de noms de domaine")


@pytest.fixture
def staff_client(staff_user, settings):
    from tests.conftest import client_for

    settings.PORTAL_ADMIN_REQUIRE_MFA = False
    return client_for(staff_user)


def records_ticket(owner, code="domains-records-update"):
    from support import tickets
    from support.models import InterventionType

    customer = owner.memberships.get().customer
    return tickets.open_ticket(
        customer=customer, opened_by=owner, reason=InterventionType.objects.get(code=code), priority="standard",
        subject="Please add our mail server", description="MX 10 mail.example.net.",
    )  # fmt: skip


def admin_record(zone, ticket, **fields) -> dict:
    zone.refresh_from_db()
    return {
        "zone": zone.pk, "name": "@", "type": "MX", "ttl": "3600", "value": "10 mail.example.net.",
        "ticket": ticket.pk if ticket else "", "minutes": "15", "note": "", "expected_serial": zone.serial,
        **fields,
    }  # fmt: skip


@pytest.mark.django_db
def test_art_4_staff_changing_records_for_a_ticket_are_charged_the_annex_1_rate_once_per_ticket(
    staff_client, staff_user, owner, customer, zone
):
    from django.urls import reverse

    from billing import ledger
    from support.models import TimeEntry

    ledger.grant(customer, 10, reason="Pack 10")
    ticket = records_ticket(owner)  # annex 1: 2 credits Standard, per intervention
    response = staff_client.post(reverse("admin:services_dnsrecord_add"), admin_record(zone, ticket))
    assert response.status_code == 302, response.content.decode()
    record = zone.records.get()
    assert (record.name, record.type, record.value) == ("@", "MX", "10 mail.example.net.")
    change = zone.changes.get()
    assert (change.actor, change.ticket, change.action) == (staff_user, ticket, "added")
    assert ledger.balance(customer) == 8
    # A second change for the same ticket logs the time but charges nothing more.
    url = reverse("admin:services_dnsrecord_change", args=[record.pk])
    response = staff_client.post(url, admin_record(zone, ticket, value="20 mail.example.net.", minutes="10"))
    assert response.status_code == 302, response.content.decode()
    assert ledger.balance(customer) == 8
    assert list(ticket.time_entries.values_list("minutes", "credits", "charge")) == [
        (15, 2, TimeEntry.Charge.CHARGED), (10, 0, TimeEntry.Charge.NOT_CHARGED),
    ]  # fmt: skip
    # Deleting is a change for the ticket too.
    response = staff_client.post(url, admin_record(zone, ticket, delete="on"))
    assert response.status_code == 302 and not zone.records.exists()
    assert zone.changes.filter(action="deleted", ticket=ticket).exists()


@pytest.mark.django_db
def test_staff_must_pick_an_open_records_update_ticket_of_the_zones_customer(staff_client, owner, other_owner, zone):
    from django.urls import reverse

    add_url = reverse("admin:services_dnsrecord_add")
    body = staff_client.post(add_url, admin_record(zone, None)).content.decode()
    assert "This field is required" in body
    theirs = records_ticket(other_owner)
    assert (
        "Choose a ticket of the zone&#x27;s customer."
        in staff_client.post(add_url, admin_record(zone, theirs)).content.decode()
    )
    information = records_ticket(owner, code="domains-information")
    assert "Select a valid choice" in staff_client.post(add_url, admin_record(zone, information)).content.decode()
    assert not zone.records.exists() and not zone.changes.exists()


@pytest.mark.django_db
def test_the_admin_form_shows_the_validation_messages_and_refuses_a_stale_serial(staff_client, owner, zone):
    from django.urls import reverse

    ticket = records_ticket(owner)
    add_url = reverse("admin:services_dnsrecord_add")
    body = staff_client.post(add_url, admin_record(zone, ticket, name="@", type="CNAME", value="www")).content.decode()
    assert "A CNAME cannot be at the zone apex" in body
    stale = admin_record(zone, ticket, expected_serial=zone.serial - 1)
    assert "The zone changed since this page was opened" in staff_client.post(add_url, stale).content.decode()
    assert not zone.records.exists()


@pytest.mark.django_db
def test_the_zone_admin_shows_the_zone_file_and_the_history_is_read_only(staff_client, zone, owner):
    from django.urls import reverse

    add(zone, "www", "A", "192.0.2.10", by=owner)
    body = staff_client.get(reverse("admin:services_dnszone_change", args=[zone.pk])).content.decode()
    assert "www\t3600\tIN\tA\t192.0.2.10" in body
    assert staff_client.get(reverse("admin:services_zonechange_changelist")).status_code == 200
    assert staff_client.get(reverse("admin:services_zonechange_add")).status_code == 403
    assert staff_client.get(reverse("admin:services_dnsrecord_changelist")).status_code == 200


@pytest.mark.django_db
def test_charge_intervention_refuses_a_reason_not_priced_per_intervention(owner, staff_user):
    from support import charges

    with pytest.raises(ValidationError, match="not charged per intervention"):
        charges.charge_intervention(ticket=records_ticket(owner, code="hosting-coding"), by=staff_user, note="x")
    entry = charges.charge_intervention(ticket=records_ticket(owner), by=staff_user, note="MX added")
    assert (entry.minutes, entry.note, entry.credits) == (15, "MX added", 2)
