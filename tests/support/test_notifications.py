"""Support e-mails: who gets them, in which language, always with the ticket number (art. 7.2)."""

import pytest
from django.core import mail

from accounts.roles import Role
from support import tickets
from support.models import InterventionType, Status
from tests.factories import MembershipFactory


@pytest.fixture
def ticket(owner, customer, technical_member, billing_member):
    reason = InterventionType.objects.get(code="hosting-site-down")
    return tickets.open_ticket(
        customer=customer, opened_by=technical_member, reason=reason, priority="express", subject="Down",
        description="d",
    )  # fmt: skip


@pytest.mark.django_db
def test_art_7_2_a_staff_reply_reaches_the_customers_people_with_the_ticket_number(
    ticket, staff_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tickets.add_staff_reply(ticket=ticket, author=staff_user, body="Restarted the web server.")
    (message,) = mail.outbox
    assert message.subject.startswith(f"[{ticket.number}]")
    # Owners, admins and technical members follow tickets; the billing contact does not.
    assert message.to == ["owner@acme.example", "tech@acme.example"]
    assert "Restarted the web server." in message.body
    assert ticket.get_absolute_url() in message.body


@pytest.mark.django_db
def test_an_internal_note_sends_nothing_to_the_customer(ticket, staff_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tickets.add_staff_reply(ticket=ticket, author=staff_user, body="Looks like a DDoS", internal=True)
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_status_change_is_mailed_to_the_customer_in_its_language(
    ticket, customer, staff_user, django_capture_on_commit_callbacks
):
    customer.preferred_language = "nl"
    customer.save()
    with django_capture_on_commit_callbacks(execute=True):
        tickets.change_status(ticket=ticket, status=Status.WAITING_ON_CUSTOMER, by=staff_user)
    (message,) = mail.outbox
    assert message.subject.startswith(f"[{ticket.number}]")
    assert "Your ticket is now" not in message.subject  # Dutch, not English


@pytest.mark.django_db
def test_staff_hear_of_new_tickets_and_customer_remarks_the_assignee_first(
    owner, customer, staff_user, django_capture_on_commit_callbacks, settings
):
    from tests.factories import UserFactory

    settings.SUPPORT_STAFF_EMAILS = ["support@portal.example"]
    reason = InterventionType.objects.get(code="hosting-information")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = tickets.open_ticket(
            customer=customer, opened_by=owner, reason=reason, priority="standard", subject="Q", description="d"
        )
    assert mail.outbox[-1].to == ["support@portal.example"]
    assert mail.outbox[-1].subject.startswith(f"[{ticket.number}]")
    agent = UserFactory(email="agent@portal.example", is_staff=True)
    tickets.assign(ticket=ticket, assignee=agent, by=staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        tickets.add_remark(ticket=ticket, author=owner, body="Any news?")
    assert mail.outbox[-1].to == ["agent@portal.example"]
    assert "Any news?" in mail.outbox[-1].body


@pytest.mark.django_db
def test_people_of_other_customers_never_receive_the_mails(
    ticket, other_owner, staff_user, django_capture_on_commit_callbacks
):
    MembershipFactory(customer=other_owner.memberships.get().customer, role=Role.TECHNICAL)
    with django_capture_on_commit_callbacks(execute=True):
        tickets.add_staff_reply(ticket=ticket, author=staff_user, body="Hello")
    assert "owner@globex.example" not in mail.outbox[0].to


@pytest.mark.django_db
def test_art_7_4_the_awaiting_credits_mail_also_reaches_those_who_can_buy_credits(
    ticket, staff_user, django_capture_on_commit_callbacks
):
    from support import charges

    ticket.reason = InterventionType.objects.get(code="hosting-internal-migration")
    ticket.save()
    with django_capture_on_commit_callbacks(execute=True):
        charges.log_time(ticket=ticket, staff=staff_user, minutes=30, note="migration")
    [message] = [m for m in mail.outbox if "/billing/buy/" in m.body]  # the one with the link to buy credits
    assert message.subject.startswith(f"[{ticket.number}]")
    assert "billing@acme.example" in message.to and "tech@acme.example" in message.to
