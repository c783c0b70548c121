"""Hypothesis fills every POST form the portal shows (as the owner of Acme) with generated values:
no answer is a server error. Each request is rolled back, so every example starts from the same data."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import client_for
from tests.security.pages import customer_urls, post_forms, rolled_back

pytestmark = [pytest.mark.security, pytest.mark.django_db]

EXAMPLES_PER_FORM = 40
# Text a browser can send: no lone surrogates (they cannot be encoded), everything else goes.
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
NASTY = st.sampled_from(
    ["", " ", "0", "-1", "99999999999999999999", "1e9", "NaN", "../../etc/passwd", "<script>x</script>",
     "' OR 1=1 --", "%s%n", "\x00", "ÿ" * 300, "a." * 200, "2026-02-30", "@", "*.example.be", "::1"]
)  # fmt: skip


def _value(form, name):
    offered = [v for v in form.fields[name] if v]
    choices = [TEXT, NASTY]
    if offered:
        choices.insert(0, st.sampled_from(offered))
    return st.one_of(*choices)


def _strategy(form):
    names = [n for n in form.fields if form.kinds[n] != "file"]
    return st.fixed_dictionaries({}, optional={name: _value(form, name) for name in names})


def test_no_form_answers_a_server_error_to_generated_values(acme_objects, owner, reauthenticated):
    client = client_for(owner)
    forms = {}
    for url in customer_urls(acme_objects).values():
        with rolled_back():
            response = client.get(url)
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            for form in post_forms(response.content.decode(), url):
                forms.setdefault((form.action, tuple(sorted(form.fields))), form)
    assert len(forms) >= 15, sorted(forms)

    for form in forms.values():
        _fuzz(client, form)


def _fuzz(client, form):
    @settings(
        max_examples=EXAMPLES_PER_FORM,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(data=_strategy(form))
    def post_generated(data):
        with rolled_back():
            response = client.post(form.action, data)  # a server error raises here
        assert response.status_code < 500, (form.action, data)

    post_generated()
