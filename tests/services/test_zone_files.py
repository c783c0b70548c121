"""Zone files: the export_zone and import_zone commands, and generated zones checked by BIND's
named-checkzone (Debian's bind9-utils, installed by .ci/run; the checks run in make test-services)."""

import contextlib
import datetime
import shutil
import subprocess

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services import dns
from services.models import Kind
from tests.factories import PlanFactory, ServiceFactory

TODAY = datetime.date(2026, 11, 27)
DKIM = "v=DKIM1; k=rsa; p=" + "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 13  # 600 bytes


@pytest.fixture
def zone(customer):
    service = ServiceFactory(customer=customer, name="acme.be", plan=PlanFactory(kind=Kind.DOMAIN))
    return dns.create_zone(service=service, name="acme.be", today=TODAY)


def add(zone, name, type, value, ttl=3600):
    return dns.add_record(
        zone=zone, name=name, type=type, ttl=ttl, value=value, expected_serial=zone.serial, by=None, today=TODAY
    )


def every_type(zone) -> None:
    add(zone, "@", "A", "192.0.2.1")
    add(zone, "@", "AAAA", "2001:db8::1")
    add(zone, "www", "A", "192.0.2.10")
    add(zone, "www", "AAAA", "2001:db8::10")
    add(zone, "blog", "CNAME", "www")
    add(zone, "shop", "CNAME", "shops.example.net.")
    add(zone, "@", "MX", "10 mail")
    add(zone, "@", "MX", "20 mx.backup.example.net.")
    add(zone, "mail", "A", "192.0.2.25")
    add(zone, "@", "TXT", "v=spf1 mx -all")
    add(zone, "s1._domainkey", "TXT", DKIM)
    add(zone, "_dmarc", "TXT", '"v=DMARC1; p=quarantine; rua=mailto:dmarc@acme.be"')
    add(zone, "_sip._tcp", "SRV", "10 5 5060 sip.example.net.")
    add(zone, "_submission._tcp", "SRV", "0 1 587 mail.acme.be.")
    add(zone, "@", "CAA", '0 issue "letsencrypt.org"')
    add(zone, "@", "CAA", '0 iodef "mailto:security@acme.be"')
    add(zone, "lab", "NS", "ns1.lab-hosting.example.")
    add(zone, "lab", "NS", "ns2.lab-hosting.example.")
    add(zone, "café", "A", "192.0.2.30")
    add(zone, "*.apps", "A", "192.0.2.40")
    add(zone, "*", "TXT", "wildcard")


def named_checkzone(zone_name: str, text: str, tmp_path) -> subprocess.CompletedProcess:
    program = shutil.which("named-checkzone")
    if program is None:
        pytest.fail("named-checkzone is missing: install Debian's bind9-utils (.ci/run does).", pytrace=False)
    path = tmp_path / f"{zone_name}.zone"
    path.write_text(text, encoding="utf-8")
    return subprocess.run([program, zone_name, str(path)], capture_output=True, text=True, check=False)  # noqa: S603


# named-checkzone (make test-services)


@pytest.mark.services
@pytest.mark.django_db
def test_named_checkzone_accepts_a_generated_zone_with_records_of_every_type(zone, tmp_path):
    every_type(zone)
    text = dns.zone_text(zone)
    assert "xn--caf-dma\t3600\tIN\tA\t192.0.2.30" in text
    assert f'"{DKIM[:255]}" "{DKIM[255:510]}" "{DKIM[510:]}"' in text
    checked = named_checkzone("acme.be", text, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"loaded serial {zone.serial}" in checked.stdout


RECORDS = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["@", "www", "a.b", "*.w", "café", "x-1"]), st.just("A"), st.ip_addresses(v=4).map(str)
        ),
        st.tuples(st.sampled_from(["@", "www", "v6"]), st.just("AAAA"), st.ip_addresses(v=6).map(str)),
        st.tuples(st.sampled_from(["alias", "cdn", "*.c"]), st.just("CNAME"), st.sampled_from(["www", "x.example."])),
        st.tuples(
            st.sampled_from(["@", "www"]),
            st.just("MX"),
            st.builds("{} {}".format, st.integers(0, 65535), st.sampled_from(["mail", "mx.example."])),
        ),
        st.tuples(st.sampled_from(["@", "_t", "www"]), st.just("TXT"), st.text(min_size=1, max_size=700)),
        st.tuples(st.just("_x._tcp"), st.just("SRV"), st.sampled_from(["1 2 3 t.example.", "0 0 443 www"])),
        st.tuples(st.just("@"), st.just("CAA"), st.sampled_from(['0 issue "ca.example"', "128 tbs xyz"])),
        st.tuples(st.sampled_from(["sub", "d.e"]), st.just("NS"), st.sampled_from(["ns.example.", "ns2.example."])),
    ),
    max_size=12,
)


@pytest.mark.services
@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=RECORDS)
def test_named_checkzone_accepts_every_zone_the_validation_lets_through(zone, tmp_path, records):
    zone.records.all().delete()
    for name, type, value in records:
        with contextlib.suppress(ValidationError):  # refused records stay out: what was accepted must load
            add(zone, name, type, value)
    checked = named_checkzone("acme.be", dns.zone_text(zone), tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


# The commands


@pytest.mark.django_db
def test_export_zone_prints_the_zone_file(zone, capsys):
    add(zone, "www", "A", "192.0.2.10")
    call_command("export_zone", "ACME.be.")
    assert capsys.readouterr().out == dns.zone_text(zone)


@pytest.mark.django_db
def test_export_zone_of_an_unknown_domain_is_a_clear_error(db):
    with pytest.raises(CommandError, match=r"No zone nowhere\.example is hosted on our nameservers"):
        call_command("export_zone", "nowhere.example")


@pytest.mark.django_db
def test_import_zone_adds_the_records_and_prints_a_one_line_summary(zone, tmp_path, capsys):
    path = tmp_path / "acme.be.zone"
    path.write_text("$TTL 3600\n@ IN SOA a. b. 1 2 3 4 5\nwww IN A 192.0.2.10\n@ IN MX 10 mail\nmail IN A 192.0.2.25\n")
    call_command("import_zone", "acme.be", str(path))
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert out.strip() == "acme.be: 3 records added, 0 already present, 1 SOA/NS of ours skipped; serial 2026112702."
    assert zone.records.count() == 3
    assert zone.changes.filter(action="imported", actor=None).count() == 3


@pytest.mark.django_db
def test_import_zone_dry_run_imports_nothing(zone, tmp_path, capsys):
    path = tmp_path / "acme.be.zone"
    path.write_text("$TTL 3600\nwww IN A 192.0.2.10\n")
    call_command("import_zone", "acme.be", str(path), "--dry-run")
    assert "1 records would be added (dry run)" in capsys.readouterr().out
    assert not zone.records.exists()


@pytest.mark.django_db
def test_import_zone_refuses_a_file_with_an_invalid_record_and_says_which(zone, tmp_path):
    path = tmp_path / "acme.be.zone"
    path.write_text("$TTL 3600\nwww IN A 192.0.2.10\nftp 30 IN A 192.0.2.21\n")
    with pytest.raises(CommandError) as caught:
        call_command("import_zone", "acme.be", str(path))
    assert "Nothing was imported into acme.be" in str(caught.value)
    assert "- ftp 30 A 192.0.2.21: Enter a TTL in seconds between" in str(caught.value)
    assert not zone.records.exists()


@pytest.mark.django_db
def test_import_zone_says_when_the_file_or_the_zone_is_missing(zone, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_zone", "acme.be", str(tmp_path / "missing.zone"))
    with pytest.raises(CommandError, match=r"No zone other\.be is hosted"):
        call_command("import_zone", "other.be", str(tmp_path / "missing.zone"))
