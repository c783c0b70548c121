"""Inviting people, accepting, changing roles: through the pages, as a customer's people would."""

import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from accounts.models import AuditEvent, Invitation, Membership, User
from accounts.roles import Role
from tests.factories import PASSWORD, MembershipFactory, UserFactory


def _invite(client, email="new.person@acme.example", role=Role.TECHNICAL, **extra):
    return client.post(reverse("team_invite"), {"email": email, "role": role}, **extra)


def _link_in(message) -> str:
    return re.search(r"http://testserver(/invitations/\S+/)", message.body).group(1)


@pytest.mark.django_db
def test_an_owner_invites_someone_who_gets_a_signed_link_by_email(
    owner_client, customer, reauthenticated, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(owner_client)
    assert response.status_code == 302
    invitation = Invitation.objects.get(customer=customer)
    assert (invitation.email, invitation.role) == ("new.person@acme.example", Role.TECHNICAL)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@acme.example"]
    assert "Acme SRL" in mail.outbox[0].subject
    assert _link_in(mail.outbox[0]).startswith("/invitations/")
    event = AuditEvent.objects.get(action="invitation.sent")
    assert event.customer == customer and event.actor.email == "owner@acme.example"
    assert event.ip_address == "127.0.0.1"


@pytest.mark.django_db
def test_the_invitation_email_is_only_sent_once_the_transaction_commits(
    owner_client, reauthenticated, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _invite(owner_client)
    assert mail.outbox == []
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_a_technical_member_may_not_invite(technical_client, reauthenticated):
    assert _invite(technical_client).status_code == 403
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_inviting_asks_for_the_password_again_then_goes_through(client, owner, customer):
    client.force_login(owner)
    response = _invite(client)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert not Invitation.objects.exists()
    response = client.post(response.url, {"password": PASSWORD})
    assert Invitation.objects.filter(customer=customer, email="new.person@acme.example").exists()


@pytest.mark.django_db
def test_an_htmx_invite_without_recent_authentication_redirects_the_whole_page(client, owner):
    client.force_login(owner)
    response = _invite(client, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("account_reauthenticate"))


@pytest.mark.django_db
def test_an_invalid_address_shows_the_form_fragment_with_the_error_under_htmx(owner_client, reauthenticated):
    response = _invite(owner_client, email="not-an-address", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<form id="invite-form"')
    assert 'aria-invalid="true"' in body
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_inviting_an_existing_member_is_refused_with_a_message(owner_client, technical_member, reauthenticated):
    response = _invite(owner_client, email="tech@acme.example")
    assert response.status_code == 200
    assert "already a member" in response.content.decode()


@pytest.mark.django_db
def test_a_new_person_signs_up_from_the_link_and_joins_with_the_invited_role(
    client, owner_client, customer, reauthenticated, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(owner_client, role=Role.BILLING)
    link = _link_in(mail.outbox[0])
    assert "Join Acme SRL" in client.get(link).content.decode()
    # The link opened sign-up for this address, already verified by the e-mail.
    response = client.post(
        reverse("account_signup") + f"?next={link}",
        {"email": "new.person@acme.example", "password1": "a-long-enough-pass", "password2": "a-long-enough-pass"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="new.person@acme.example")
    assert user.emailaddress_set.get().verified
    response = client.post(link)
    assert response.status_code == 302
    membership = Membership.objects.get(user=user, customer=customer)
    assert membership.role == Role.BILLING
    assert Invitation.objects.get().accepted_by == user
    assert AuditEvent.objects.filter(action="invitation.accepted", customer=customer, actor=user).exists()


@pytest.mark.django_db
def test_sign_up_is_closed_without_an_invitation(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "stranger@example.com", "password1": "a-long-enough-pass", "password2": "a-long-enough-pass"},
    )
    assert not User.objects.filter(email="stranger@example.com").exists()
    assert response.status_code in (200, 302)


@pytest.mark.django_db
def test_passwords_shorter_than_12_characters_are_refused(
    client, owner_client, reauthenticated, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(owner_client)
    client.get(_link_in(mail.outbox[0]))
    response = client.post(
        reverse("account_signup"),
        {"email": "new.person@acme.example", "password1": "short-pw-11", "password2": "short-pw-11"},
    )
    assert not User.objects.filter(email="new.person@acme.example").exists()
    assert "at least 12 characters" in response.content.decode()


@pytest.mark.django_db
def test_an_expired_invitation_is_refused_with_a_clear_message(
    client, owner_client, reauthenticated, django_capture_on_commit_callbacks
):
    with time_machine.travel("2026-11-02 10:00 +01:00", tick=False), django_capture_on_commit_callbacks(execute=True):
        _invite(owner_client)
    link = _link_in(mail.outbox[0])
    with time_machine.travel("2026-11-09 10:01 +01:00", tick=False):
        response = client.get(link)
    assert response.status_code == 410
    assert "expired" in response.content.decode()


@pytest.mark.django_db
def test_an_invitation_for_someone_else_cannot_be_accepted(
    owner_client, other_owner, customer, reauthenticated, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(owner_client)
    intruder = owner_client.__class__()
    intruder.force_login(other_owner)
    response = intruder.post(_link_in(mail.outbox[0]))
    assert response.status_code == 400
    assert not Membership.objects.filter(user=other_owner, customer=customer).exists()


@pytest.mark.django_db
def test_a_withdrawn_invitation_no_longer_works(
    client, owner_client, reauthenticated, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(owner_client)
    invitation = Invitation.objects.get()
    owner_client.post(reverse("team_invitation_revoke", args=[invitation.pk]))
    assert client.get(_link_in(mail.outbox[0])).status_code == 410
    assert AuditEvent.objects.filter(action="invitation.revoked").exists()


@pytest.mark.django_db
def test_an_owner_changes_a_role_and_it_is_recorded(owner_client, customer, technical_member, reauthenticated):
    membership = Membership.objects.get(user=technical_member)
    response = owner_client.post(reverse("team_change_role", args=[membership.pk]), {"role": Role.ADMIN})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    event = AuditEvent.objects.get(action="membership.role_changed")
    assert event.details == {"member": "tech@acme.example", "old": "technical", "new": "admin"}


@pytest.mark.django_db
def test_the_last_owner_cannot_be_demoted_or_removed(owner_client, owner, reauthenticated):
    membership = Membership.objects.get(user=owner)
    response = owner_client.post(
        reverse("team_change_role", args=[membership.pk]), {"role": Role.TECHNICAL}, follow=True
    )
    assert "at least one owner" in response.content.decode()
    owner_client.post(reverse("team_remove_member", args=[membership.pk]))
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


@pytest.mark.django_db
def test_an_owner_removes_a_member(owner_client, technical_member, reauthenticated):
    membership = Membership.objects.get(user=technical_member)
    owner_client.post(reverse("team_remove_member", args=[membership.pk]))
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert AuditEvent.objects.filter(action="membership.removed").exists()


@pytest.mark.django_db
def test_the_team_page_shows_the_role_table_to_every_member(technical_client):
    body = technical_client.get(reverse("team")).content.decode()
    assert "What each role may do" in body
    assert "Send invitation" not in body


@pytest.mark.django_db
def test_owners_see_the_activity_page_and_others_do_not(owner_client, technical_client, customer, owner):
    from portal import audit

    audit.record("membership.role_changed", actor=owner, customer=customer)
    response = owner_client.get(reverse("activity"))
    assert response.status_code == 200
    assert "Role changed" in response.content.decode()
    assert technical_client.get(reverse("activity")).status_code == 403


@pytest.mark.django_db
def test_the_activity_page_query_count_does_not_grow_with_events(
    owner_client, customer, owner, django_assert_max_num_queries
):
    from portal import audit

    for _ in range(60):
        audit.record("auth.login", actor=owner, customer=customer)
    with django_assert_max_num_queries(12):
        owner_client.get(reverse("activity"))


@pytest.mark.django_db
def test_a_person_in_two_customers_switches_between_them(owner_client, owner, other_customer):
    MembershipFactory(user=owner, customer=other_customer, role=Role.TECHNICAL)
    assert "Acme SRL" in owner_client.get(reverse("dashboard")).content.decode()
    response = owner_client.post(reverse("switch_customer"), {"customer": other_customer.pk})
    assert response.status_code == 302
    body = owner_client.get(reverse("dashboard")).content.decode()
    assert "<h1>Globex NV</h1>" in body


@pytest.mark.django_db
def test_switching_to_a_customer_one_is_not_a_member_of_is_refused(owner_client, other_customer, other_owner):
    owner_client.post(reverse("switch_customer"), {"customer": other_customer.pk})
    assert "<h1>Acme SRL</h1>" in owner_client.get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
def test_a_person_without_customer_is_told_how_to_get_access(client):
    client.force_login(UserFactory())
    response = client.get(reverse("dashboard"), follow=True)
    assert response.status_code == 403
    assert "invite you" in response.content.decode()
