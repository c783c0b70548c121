import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from accounts.models import AuditEvent
from tests.factories import PASSWORD, UserFactory


@pytest.mark.django_db
def test_signing_in_by_email_is_recorded_with_the_ip_for_each_customer(client, owner, customer):
    response = client.post(reverse("account_login"), {"login": "owner@acme.example", "password": PASSWORD})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.login")
    assert (event.actor, event.customer, event.ip_address) == (owner, customer, "127.0.0.1")


@pytest.mark.django_db
def test_a_failed_sign_in_is_recorded_without_revealing_whether_the_account_exists(client, owner):
    known = client.post(reverse("account_login"), {"login": "owner@acme.example", "password": "wrong-password-1"})
    unknown = client.post(reverse("account_login"), {"login": "nobody@acme.example", "password": "wrong-password-1"})
    assert known.status_code == unknown.status_code == 200
    assert AuditEvent.objects.filter(action="auth.login_failed", actor_email="owner@acme.example").exists()


@pytest.mark.django_db
def test_an_unverified_address_must_be_verified_before_signing_in(client, customer, django_capture_on_commit_callbacks):
    from django.core import mail

    UserFactory(email="new@acme.example", verified=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_login"), {"login": "new@acme.example", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    assert mail.outbox and mail.outbox[0].to == ["new@acme.example"]


@pytest.mark.django_db
def test_password_reset_does_not_reveal_unknown_addresses(client, owner, django_capture_on_commit_callbacks):
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(reverse("account_reset_password"), {"email": "owner@acme.example"})
        unknown = client.post(reverse("account_reset_password"), {"email": "nobody@acme.example"})
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url
    # The unknown address is told, by e-mail, that it has no account: the page says nothing.
    assert sorted(m.to[0] for m in mail.outbox) == ["nobody@acme.example", "owner@acme.example"]


@pytest.mark.django_db
def test_the_user_sees_the_list_of_their_sessions(owner_client):
    assert owner_client.get(reverse("usersessions_list")).status_code == 200


@pytest.mark.django_db
def test_mfa_offers_totp_webauthn_and_recovery_codes(owner_client, settings):
    assert set(settings.MFA_SUPPORTED_TYPES) == {"totp", "webauthn", "recovery_codes"}
    body = owner_client.get(reverse("mfa_index")).content.decode()
    assert reverse("mfa_activate_totp") in body
    assert reverse("mfa_add_webauthn") in body
    assert not Authenticator.objects.exists()


def test_security_notification_emails_and_reauthentication_are_on(settings):
    assert settings.ACCOUNT_EMAIL_NOTIFICATIONS is True
    assert settings.ACCOUNT_REAUTHENTICATION_REQUIRED is True
    assert settings.ACCOUNT_EMAIL_VERIFICATION == "mandatory"
    assert settings.ACCOUNT_PREVENT_ENUMERATION is True


@pytest.mark.django_db
def test_repeated_failed_sign_ins_are_rate_limited(client, owner):
    from django.core.cache import cache

    cache.clear()
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "owner@acme.example", "password": "wrong-password-1"})
    response = client.post(reverse("account_login"), {"login": "owner@acme.example", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in response.content.decode()
    cache.clear()
