"""Staff reach the admin only through allauth's login, and only with MFA enabled."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from tests.conftest import client_for


def _enable_totp(user):
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})


@pytest.mark.django_db
def test_the_admin_login_page_sends_people_to_allauths_login(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.django_db
def test_staff_without_mfa_are_sent_to_set_it_up(staff_user):
    response = client_for(staff_user).get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("mfa_index")
    assert "two-factor" in response.content.decode()


@pytest.mark.django_db
def test_staff_with_mfa_use_the_admin(staff_user):
    _enable_totp(staff_user)
    assert client_for(staff_user).get(reverse("admin:index")).status_code == 200


@pytest.mark.django_db
def test_the_mfa_requirement_is_a_setting_that_only_the_demo_turns_off(staff_user, settings):
    settings.PORTAL_ADMIN_REQUIRE_MFA = False
    assert client_for(staff_user).get(reverse("admin:index")).status_code == 200


@pytest.mark.django_db
def test_customers_never_reach_the_admin(owner):
    response = client_for(owner).get(reverse("admin:index"), follow=True)
    assert response.status_code == 403


@pytest.mark.django_db
def test_staff_see_every_customers_audit_events_read_only(staff_user, owner, customer):
    from portal import audit

    _enable_totp(staff_user)
    event = audit.record("membership.role_changed", actor=owner, customer=customer)
    client = client_for(staff_user)
    assert "owner@acme.example" in client.get(reverse("admin:accounts_auditevent_changelist")).content.decode()
    assert client.get(reverse("admin:accounts_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:accounts_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name",
    [
        "admin:accounts_customer_changelist",
        "admin:accounts_user_changelist",
        "admin:services_service_changelist",
        "admin:services_plan_changelist",
        "admin:accounts_invitation_changelist",
    ],
)
def test_admin_changelists_open(staff_user, url_name):
    _enable_totp(staff_user)
    assert client_for(staff_user).get(reverse(url_name)).status_code == 200
