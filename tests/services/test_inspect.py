"""``services.certificates.inspect`` on certificates the tests make with ``cryptography``: a
self-signed one, a small CA (root → intermediate → leaf), expired, not yet valid, wrong key, wrong
names, RSA and EC keys; and garbage of every kind, which is reported and never raises."""

import datetime
import functools
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from services.certificates import inspect

NOW = datetime.datetime(2026, 6, 1, 10, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)


# Making keys, certificates and CSRs (shared with test_certificates.py)


@functools.cache
def cached_key(name: str):
    """Keys are slow to make (RSA especially): one per name for the whole run."""
    kind = name.split("-")[0]
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "rsa1024":
        return rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - must be refused
    if kind == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "p521":
        return ec.generate_private_key(ec.SECP521R1())
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str | None) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else [])


def make_certificate(
    *,
    key,
    names: list[str] | None = None,
    common_name: str | None = None,
    issuer: x509.Certificate | None = None,
    issuer_key=None,
    ca: bool = False,
    not_before: datetime.datetime = NOW - 30 * DAY,
    not_after: datetime.datetime = NOW + 335 * DAY,
    serial: int = 0x0A1B2C3D4E5F,
) -> x509.Certificate:
    names = names if names is not None else ["www.acme.example"]
    subject = _name(common_name if common_name is not None else (names[0] if names else "Acme"))
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def to_pem(*certificates: x509.Certificate) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certificates)


def key_pem(key, password: bytes | None = None) -> str:
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()


def make_csr(key, names: list[str], common_name: str | None = None) -> str:
    builder = x509.CertificateSigningRequestBuilder().subject_name(_name(common_name or names[0]))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class Pki:
    root: x509.Certificate
    intermediate: x509.Certificate
    leaf: x509.Certificate
    leaf_key: object


def make_pki(names: list[str], leaf_key=None, **leaf_options) -> Pki:
    """A small CA: a root, an intermediate it signed, and a leaf the intermediate signed."""
    root_key, intermediate_key = cached_key("p384-root"), cached_key("p256-intermediate")
    root = make_certificate(key=root_key, names=[], common_name="Test Root CA", ca=True)
    intermediate = make_certificate(
        key=intermediate_key, names=[], common_name="Test Issuing CA", ca=True, issuer=root, issuer_key=root_key
    )
    leaf_key = leaf_key or cached_key("rsa-leaf")
    leaf = make_certificate(key=leaf_key, names=names, issuer=intermediate, issuer_key=intermediate_key, **leaf_options)
    return Pki(root=root, intermediate=intermediate, leaf=leaf, leaf_key=leaf_key)


@pytest.fixture
def self_signed():
    key = cached_key("p256-self")
    return make_certificate(key=key, names=["www.acme.example", "acme.example"]), key


@pytest.fixture
def pki():
    return make_pki(["shop.acme.example"])


def codes(inspection) -> list[str]:
    return [problem.code for problem in inspection.problems]


# What inspect reads


def test_it_reads_a_self_signed_ec_certificate(self_signed):
    certificate, key = self_signed
    result = inspect(to_pem(certificate), key=key, expected_names=["acme.example", "www.acme.example"], now=NOW)
    assert result.ok and result.problems == []
    assert result.subject == "CN=www.acme.example" and result.issuer == "CN=www.acme.example"
    assert result.names == ["www.acme.example", "acme.example"]
    assert result.serial == "0A1B2C3D4E5F"
    assert result.not_before == NOW - 30 * DAY and result.not_before.tzinfo == datetime.UTC
    assert result.not_after == NOW + 335 * DAY and result.not_after.utcoffset() == datetime.timedelta(0)
    assert (result.key_type, result.key_size) == ("EC P-256", 256)


def test_it_reads_an_rsa_leaf_issued_by_a_small_ca(pki):
    result = inspect(to_pem(pki.leaf), key=pki.leaf_key, chain=to_pem(pki.intermediate, pki.root), now=NOW)
    assert result.ok, result.problems
    assert (result.key_type, result.key_size) == ("RSA", 2048)
    assert result.issuer == "CN=Test Issuing CA"
    assert result.chain_pem == to_pem(pki.intermediate, pki.root)


def test_it_falls_back_to_the_common_name_when_there_are_no_alternative_names():
    certificate = make_certificate(key=cached_key("p256-cn"), names=[], common_name="Legacy.Acme.example")
    assert inspect(to_pem(certificate), now=NOW).names == ["legacy.acme.example"]


def test_it_accepts_bytes_and_surrounding_text(self_signed):
    certificate, _key = self_signed
    text = "Here is your certificate:\n" + to_pem(certificate) + "\nRegards, the CA"
    assert inspect(text.encode(), now=NOW).ok


# Each problem, with its message


def test_it_reports_an_expired_certificate():
    certificate = make_certificate(key=cached_key("p256-old"), not_before=NOW - 400 * DAY, not_after=NOW - DAY)
    result = inspect(to_pem(certificate), now=NOW)
    assert codes(result) == ["expired"]
    assert "expired on" in result.problems[0].message
    assert result.not_after == NOW - DAY  # still read: the page shows what it is


def test_it_reports_a_certificate_that_is_not_valid_yet():
    certificate = make_certificate(key=cached_key("p256-new"), not_before=NOW + DAY, not_after=NOW + 100 * DAY)
    result = inspect(to_pem(certificate), now=NOW)
    assert codes(result) == ["not_yet_valid"]
    assert "not valid yet" in result.problems[0].message
    assert inspect(to_pem(certificate), now=NOW + 2 * DAY).ok  # validity is relative to `now`


@pytest.mark.parametrize("form", ["object", "pem", "bytes"])
def test_it_reports_a_certificate_issued_for_another_private_key(self_signed, form):
    certificate, _key = self_signed
    other = cached_key("p256-other")
    key = {"object": other, "pem": key_pem(other), "bytes": key_pem(other).encode()}[form]
    result = inspect(to_pem(certificate), key=key, now=NOW)
    assert codes(result) == ["wrong_key"]
    assert result.problems[0].field == "key"
    assert "does not match the private key" in result.problems[0].message


def test_it_checks_the_key_against_a_csr_too(pki):
    matching = make_csr(pki.leaf_key, ["shop.acme.example"])
    assert inspect(to_pem(pki.leaf), key=matching, now=NOW).ok
    other = make_csr(cached_key("rsa-other"), ["shop.acme.example"])
    result = inspect(to_pem(pki.leaf), key=other, now=NOW)
    assert codes(result) == ["wrong_key"] and "request's CSR" in result.problems[0].message


def test_it_says_when_the_key_cannot_be_read(self_signed):
    certificate, key = self_signed
    encrypted = inspect(to_pem(certificate), key=key_pem(key, password=b"secret"), now=NOW)
    assert codes(encrypted) == ["key_encrypted"]
    garbage = inspect(to_pem(certificate), key="not a key", now=NOW)
    assert codes(garbage) == ["key_unparsable"]


def test_it_reports_names_that_differ_from_the_request(self_signed):
    certificate, _key = self_signed
    result = inspect(to_pem(certificate), expected_names=["www.acme.example", "mail.acme.example"], now=NOW)
    assert codes(result) == ["names_missing", "names_extra"]
    assert "mail.acme.example" in result.problems[0].message
    assert "acme.example" in result.problems[1].message
    assert inspect(to_pem(certificate), expected_names=["ACME.example", "www.acme.example"], now=NOW).ok


def test_it_reports_a_chain_that_does_not_lead_to_the_issuer(pki):
    same_ca = make_pki(["x.example"])  # another leaf of the same CA: its intermediate is as good
    unrelated_ca = make_certificate(key=cached_key("p256-unrelated"), names=[], common_name="Other CA", ca=True)
    result = inspect(to_pem(pki.leaf), chain=to_pem(unrelated_ca), now=NOW)
    assert codes(result) == ["chain_broken"]
    assert "CN=Test Issuing CA" in result.problems[0].message and "CN=Other CA" in result.problems[0].message
    assert inspect(to_pem(pki.leaf), chain=to_pem(same_ca.intermediate), now=NOW).ok


def test_it_reports_a_chain_in_the_wrong_order(pki):
    result = inspect(to_pem(pki.leaf), chain=to_pem(pki.root, pki.intermediate), now=NOW)
    assert codes(result) == ["chain_broken"]


def test_it_checks_signatures_not_only_names_in_the_chain(pki):
    # An impostor with the issuing CA's name but another key did not sign the leaf.
    impostor = make_certificate(key=cached_key("p256-impostor"), names=[], common_name="Test Issuing CA", ca=True)
    result = inspect(to_pem(pki.leaf), chain=to_pem(impostor), now=NOW)
    assert codes(result) == ["chain_broken"]
    broken_higher_up = inspect(to_pem(pki.leaf), chain=to_pem(pki.intermediate, impostor), now=NOW)
    assert codes(broken_higher_up) == ["chain_broken"] and "broken after" in broken_higher_up.problems[0].message


def test_a_full_chain_pasted_as_the_chain_is_understood(pki):
    result = inspect(to_pem(pki.leaf), chain=to_pem(pki.leaf, pki.intermediate), now=NOW)
    assert result.ok and result.chain_pem == to_pem(pki.intermediate)


def test_an_unreadable_chain_is_reported_on_the_chain(pki):
    assert codes(inspect(to_pem(pki.leaf), chain="garbage", now=NOW)) == ["chain_unparsable"]
    with_key = to_pem(pki.intermediate) + key_pem(cached_key("p256-x"))
    assert codes(inspect(to_pem(pki.leaf), chain=with_key, now=NOW)) == ["chain_not_certificates"]
    der = pki.intermediate.public_bytes(serialization.Encoding.DER)
    result = inspect(to_pem(pki.leaf), chain=der, now=NOW)
    assert codes(result) == ["chain_unparsable"] and result.problems[0].field == "chain"


# Garbage never raises


def _garbage_cases():
    key = cached_key("p256-garbage")
    certificate = make_certificate(key=key)
    pem = to_pem(certificate)
    lines = pem.splitlines()
    damaged = "\n".join([lines[0], lines[1][:10] + "!!!" + lines[1][13:], *lines[2:]])
    return {
        "random bytes": (bytes(range(256)) * 3, "unparsable"),
        "empty string": ("", "empty"),
        "empty bytes": (b"", "empty"),
        "none": (None, "empty"),
        "plain text": ("hello, this is my certificate", "unparsable"),
        "a csr": (make_csr(key, ["www.acme.example"]), "csr"),
        "a private key": (key_pem(key), "private_key"),
        "truncated pem": (pem[: len(pem) // 2], "unparsable"),
        "damaged base64": (damaged, "unparsable"),
        "binary der": (certificate.public_bytes(serialization.Encoding.DER), "unparsable"),
        "two certificates": (pem + pem, "several"),
        "a public key": (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode(),
            "not_certificate",
        ),
        "a number": (12345, "unparsable"),
    }


@pytest.mark.parametrize("case", list(_garbage_cases()))
def test_garbage_is_reported_never_raised(case):
    data, code = _garbage_cases()[case]
    result = inspect(data, key="garbage key", chain=b"\x00\xff", expected_names=["a.example"], now=NOW)
    assert code in codes(result)
    assert all(problem.message for problem in result.problems)
    assert not result.parsed


def test_a_der_certificate_is_told_apart_from_pem():
    certificate = make_certificate(key=cached_key("p256-der"))
    message = inspect(certificate.public_bytes(serialization.Encoding.DER), now=NOW).problems[0].message
    assert "binary" in message and "-----BEGIN CERTIFICATE-----" in message


def test_a_csr_is_told_apart_from_a_certificate():
    message = inspect(make_csr(cached_key("p256-csr"), ["a.example"]), now=NOW).problems[0].message
    assert "certificate signing request" in message


@settings(max_examples=150, deadline=None)
@given(data=st.one_of(st.binary(max_size=2000), st.text(max_size=2000)))
def test_no_input_makes_inspect_raise(data):
    inspect(data, key=data, chain=data, expected_names=["a.example"], now=NOW)


@settings(max_examples=100, deadline=None)
@given(noise=st.binary(min_size=1, max_size=200), position=st.integers(min_value=0, max_value=600))
def test_a_damaged_certificate_never_makes_inspect_raise(noise, position):
    body = to_pem(make_certificate(key=cached_key("p256-fuzz"))).encode()
    inspect(body[:position] + noise + body[position + len(noise) :], now=NOW)
