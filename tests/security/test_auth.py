"""Authentication: rate limits, no enumeration, TOTP replay, sessions ended, deactivation, admin MFA."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value, yield_hotp_counters_from_time
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.conftest import client_for
from tests.factories import PASSWORD

pytestmark = [pytest.mark.security, pytest.mark.django_db]
SECRET = "JBSWY3DPEHPK3PXP"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()  # allauth keeps its rate limits and used TOTP codes in the cache
    yield
    cache.clear()


def _signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def test_six_wrong_passwords_lock_the_address_even_for_the_right_one(owner):
    client = Client()
    for attempt in range(6):
        response = client.post(reverse("account_login"), {"login": owner.email, "password": f"wrong-{attempt}"})
        assert response.status_code in (200, 429)
    response = client.post(reverse("account_login"), {"login": owner.email, "password": PASSWORD})
    assert not _signed_in(client)
    assert response.status_code in (200, 429)
    # Another browser (another IP would be the same: the limit is per address) is refused too.
    other = Client(REMOTE_ADDR="198.51.100.7")
    other.post(reverse("account_login"), {"login": owner.email, "password": PASSWORD})
    assert not _signed_in(other)


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(owner, django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(reverse("account_reset_password"), {"email": owner.email})
        unknown = client.post(reverse("account_reset_password"), {"email": "nobody@nowhere.example"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    # The unknown address gets no reset link (only, at most, a note that it has no account).
    sent_to_unknown = [m for m in mail.outbox if "nobody@nowhere.example" in m.to]
    assert all("/password/reset/key/" not in m.body for m in sent_to_unknown)


def _current_code() -> str:
    return format_hotp_value(hotp_value(SECRET, next(yield_hotp_counters_from_time())))


def test_a_totp_code_cannot_be_used_twice(owner):
    TOTP.activate(owner, SECRET)
    code = _current_code()
    first = Client()
    first.post(reverse("account_login"), {"login": owner.email, "password": PASSWORD})
    first.post(reverse("mfa_authenticate"), {"code": code})
    assert _signed_in(first)
    replay = Client()
    response = replay.post(reverse("account_login"), {"login": owner.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    response = replay.post(reverse("mfa_authenticate"), {"code": code})
    assert not _signed_in(replay)
    assert response.status_code == 200 and "code" in response.content.decode().lower()


def test_a_password_change_ends_the_other_sessions(owner, reauthenticated):
    here, elsewhere = client_for(owner), client_for(owner)
    assert elsewhere.get(reverse("dashboard")).status_code == 200
    response = here.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "a-New-passw0rd-2026", "password2": "a-New-passw0rd-2026"},
    )
    assert response.status_code == 302
    assert here.get(reverse("dashboard")).status_code == 200  # the session that changed it stays
    response = elsewhere.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_a_deactivated_user_is_signed_out_on_the_next_request(owner, owner_client):
    assert owner_client.get(reverse("dashboard")).status_code == 200
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    response = owner_client.get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_staff_without_mfa_cannot_reach_the_admin(staff_user):
    client = client_for(staff_user)
    for url in (reverse("admin:index"), reverse("admin:support_ticket_changelist")):
        response = client.get(url, follow=True)
        assert response.redirect_chain, url
        assert response.redirect_chain[-1][0] == reverse("mfa_index"), url
    Authenticator.objects.create(user=staff_user, type=Authenticator.Type.TOTP, data={"secret": SECRET})
    assert client.get(reverse("admin:index")).status_code == 200
