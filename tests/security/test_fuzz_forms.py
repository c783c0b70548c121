"""Hypothesis fills every form the portal shows (as the owner of Acme: the POST forms, and the GET forms
that filter a list) with generated values: no answer is a server error. Each request is rolled back, so
every example starts from the same data.

The forms are discovered from the customer pages and the pages they link to, with Acme's objects in
the states where the state-dependent forms show (tests/security/conftest.py); every customer URL that
accepts POST must have been found, so a new form cannot escape the fuzzer unnoticed."""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import client_for
from tests.security.pages import customer_urls, discover_forms, post_url_names, rolled_back, url_name

pytestmark = [pytest.mark.security, pytest.mark.django_db]

# Small for CI (the whole test stays under a minute); FUZZ_EXAMPLES=500 for a longer hunt.
EXAMPLES_PER_FORM = int(os.environ.get("FUZZ_EXAMPLES", "25"))
# Text a browser can send: no lone surrogates (they cannot be encoded), everything else goes.
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
# The long ones find a column shorter than its form field (PostgreSQL refuses them, SQLite does not); "²" is
# a digit to str.isdigit() but not to int(), "٣" (Arabic-Indic three) is a digit to both.
NASTY = st.sampled_from(
    ["", " ", "0", "-1", "99999999999999999999", "1e9", "NaN", "../../etc/passwd", "<script>x</script>",
     "' OR 1=1 --", "%s%n", "\x00", "ÿ" * 300, "a." * 200, "2026-02-30", "@", "*.example.be", "::1",
     "é" * 5000, "1" * 400, "a@" + "b" * 300 + ".example", "²", "٣"]
)  # fmt: skip
FILE_NAMES = st.sampled_from(["proof.pdf", "cert.pem", "../../etc/passwd", "noext", "évidence.PDF", "a" * 300 + ".txt"])
FILE_CONTENTS = st.one_of(
    st.binary(max_size=2000),
    st.sampled_from([b"", b"%PDF-1.4\n%%EOF", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"]),
)

# Customer URLs that accept POST but show no form to fuzz, each with the reason. Keep it short: today every
# POST URL has a form (the file downloads are GET links, and the private key's one-time download is a form).
NOT_A_FORM: dict[str, str] = {}


def _value(form, name):
    if form.kinds[name] == "file" and form.method == "post":
        return st.builds(SimpleUploadedFile, FILE_NAMES, FILE_CONTENTS)
    offered = [v for v in form.fields[name] if v]
    choices = [TEXT, NASTY]
    if offered:
        choices.insert(0, st.sampled_from(offered))
    return st.one_of(*choices)


def _strategy(form):
    data = st.fixed_dictionaries({}, optional={name: _value(form, name) for name in form.fields})
    return st.tuples(data, st.booleans() if form.htmx else st.just(False))


def test_every_customer_url_that_accepts_post_shows_a_form_the_fuzzer_finds(acme_in_every_state, owner,
                                                                             reauthenticated):  # fmt: skip
    objects, pages = acme_in_every_state
    forms = discover_forms(client_for(owner), [*customer_urls(objects).values(), *pages])
    found = {url_name(action) for method, action, _fields in forms if method == "post"}
    required = post_url_names()
    assert len(required) >= 30 and {"hosting_restore", "order_new", "quote_accept"} <= required  # it sees our views
    assert NOT_A_FORM.keys() <= required, "an exclusion that no longer accepts POST"
    missing = required - NOT_A_FORM.keys() - found
    assert not missing, f"POST URLs whose form the fuzzer did not find (put the object in that state): {missing}"


def test_no_form_answers_a_server_error_to_generated_values(acme_in_every_state, owner, reauthenticated):
    objects, pages = acme_in_every_state
    client = client_for(owner)
    forms = discover_forms(client, [*customer_urls(objects).values(), *pages])
    assert sum(form.method == "post" for form in forms.values()) >= 35, sorted(forms)
    assert sum(form.method == "get" for form in forms.values()) >= 5, sorted(forms)
    for form in forms.values():
        _fuzz(client, form)


def _fuzz(client, form):
    @settings(
        max_examples=EXAMPLES_PER_FORM,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(request=_strategy(form))
    def post_generated(request):
        data, htmx = request
        headers = {"HX-Request": "true"} if htmx else {}
        with rolled_back():
            response = getattr(client, form.method)(form.action, data, headers=headers)  # a server error raises
        assert response.status_code < 500, (form.method, form.action, data, htmx)

    post_generated()
