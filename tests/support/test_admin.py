"""The staff side of the support desk in the admin: the ticket list, its filters and actions, the ticket page."""

import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.formats import date_format

from services.models import Kind as ServiceKind
from support import access, tickets
from support.models import InterventionType, Priority, Remark, StaffAccessGrant, Status, Ticket, TicketEvent
from tests.conftest import client_for
from tests.factories import PlanFactory, ServiceFactory, UserFactory, make_tickets

BRUSSELS = ZoneInfo("Europe/Brussels")
# Friday 27 November 2026, 10:00 in Brussels: the staff's "now" unless a test says otherwise.
NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=BRUSSELS)
CHANGELIST = reverse("admin:support_ticket_changelist")


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=BRUSSELS)


@pytest.fixture
def staff_client(staff_user):
    Authenticator.objects.create(user=staff_user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    return client_for(staff_user)


@pytest.fixture
def site_down():
    return InterventionType.objects.get(code="hosting-site-down")


@pytest.fixture
def hosting(customer):
    return ServiceFactory(customer=customer, name="www.acme.example", plan=PlanFactory(kind=ServiceKind.SHARED_HOSTING))


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def open_ticket(owner, reason, logged_at, priority=Priority.EXPRESS, subject="Site down", **fields):
    return tickets.open_ticket(
        customer=owner.memberships.get().customer, opened_by=owner, reason=reason, priority=priority,
        subject=subject, description="It is down.", now=logged_at, **fields,
    )  # fmt: skip


def short(instant: datetime.datetime) -> str:
    return date_format(instant, "SHORT_DATETIME_FORMAT")


def shown(response) -> list[str]:
    """The subjects of the tickets a changelist response shows."""
    return sorted(ticket.subject for ticket in response.context["cl"].result_list)


class _FormFields(HTMLParser):
    """What a browser would submit for one form of a page: enough to post the admin's change form as staff do."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.data = form_id, False, {}
        self.select = self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        elif not self.inside:
            return
        elif tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in {"submit", "button", "file", "image", "reset"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in attrs:
                return
            self.data[attrs["name"]] = attrs.get("value", "on" if kind in {"checkbox", "radio"} else "")
        elif tag == "select":
            self.select = attrs["name"]
            self.data[self.select] = None
        elif tag == "option" and self.select:
            if "selected" in attrs or self.data[self.select] is None:
                self.data[self.select] = attrs.get("value", "")
        elif tag == "textarea":
            self.textarea = attrs["name"]
            self.data[self.textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.data[self.textarea] = self.data[self.textarea].removeprefix("\n")
            self.textarea = None

    def handle_data(self, data):
        if self.inside and self.textarea:
            self.data[self.textarea] += data


def change_form(client, ticket) -> dict:
    """The ticket's change form as the page shows it, ready to post."""
    response = client.get(reverse("admin:support_ticket_change", args=[ticket.pk]))
    assert response.status_code == 200
    parser = _FormFields("ticket_form")
    parser.feed(response.content.decode())
    return {**parser.data, "_save": "Save"}


def save(client, ticket, **changes):
    data = change_form(client, ticket)
    data.update({name: value for name, value in changes.items()})
    return client.post(reverse("admin:support_ticket_change", args=[ticket.pk]), data)


def reply_fields(ticket, body: str, *, internal: bool = False) -> dict:
    """The extra row of the thread: the new message (its index is the number of existing messages)."""
    index = ticket.remarks.count()
    fields = {f"remarks-{index}-body": body}
    if internal:
        fields[f"remarks-{index}-is_internal"] = "on"
    return fields


def post_reply(client, ticket, body: str, *, internal: bool = False):
    data = change_form(client, ticket)
    data.update(reply_fields(ticket, body, internal=internal))
    return client.post(reverse("admin:support_ticket_change", args=[ticket.pk]), data)


# The list


@pytest.mark.django_db
def test_staff_see_every_column_of_the_ticket_list(staff_client, owner, site_down, hosting, staff_user):
    ticket = open_ticket(owner, site_down, at(27, 9), service=hosting)
    tickets.assign(ticket=ticket, assignee=staff_user, by=staff_user)
    body = staff_client.get(CHANGELIST).content.decode()
    for text in [ticket.number, "Acme SRL", "www.acme.example", "Website not reachable", "Incident", "Express",
                 "New", "staff@portal.example"]:  # fmt: skip
        assert text in body
    # Logged 09:00, Express incident: due 13:00, three working hours left at 10:00.
    assert f"{short(at(27, 13))} (3.00 h left)" in body


@pytest.mark.django_db
def test_the_staff_ticket_list_uses_as_many_queries_for_2000_tickets_as_for_20(
    staff_client, owner, customer, site_down, hosting, staff_user, django_assert_max_num_queries
):
    fields = {"service": hosting, "assignee": staff_user, "priority": Priority.EXPRESS, "response_deadline": at(27, 9)}
    make_tickets(customer=customer, reason=site_down, opened_by=owner, count=20, **fields)
    staff_client.get(CHANGELIST)
    with django_assert_max_num_queries(20) as few:
        staff_client.get(CHANGELIST)
    make_tickets(customer=customer, reason=site_down, opened_by=owner, count=1980, **fields)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = staff_client.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 50  # TicketAdmin.list_per_page
    with django_assert_max_num_queries(len(few.captured_queries)):
        staff_client.get(CHANGELIST, {"sla": "breached", "assignee": "me"})


@pytest.mark.django_db
def test_the_deadline_is_highlighted_when_at_risk_or_breached(staff_client, owner, site_down):
    open_ticket(owner, site_down, at(26, 9), subject="Breached")  # due Thursday 13:00
    open_ticket(owner, site_down, at(26, 16, 30), subject="At risk")  # 1.5 h Thursday + 2.5 h: due 10:30
    open_ticket(owner, site_down, at(27, 6), subject="On time")  # clock starts 08:00: due 12:00
    body = staff_client.get(CHANGELIST).content.decode()
    assert body.count('class="sla-breached"') == 1 and '<span class="sla-breached">' in body
    assert body.count('class="sla-at-risk"') == 1 and "(0.50 h left)" in body
    assert "(-7.00 h left)" in body  # Thursday 13:00 → 18:00 and Friday 08:00 → 10:00: 7 working hours past
    assert "support/admin.css" in body


# The filters


@pytest.fixture
def desk(owner, site_down, staff_user, other_owner, hosting):
    """Tickets in every SLA state at Friday 10:00."""
    late = open_ticket(owner, site_down, at(25, 9), subject="Answered late")
    tickets.add_staff_reply(ticket=late, author=staff_user, body="Sorry", now=at(25, 16))
    in_time = open_ticket(owner, site_down, at(25, 9), subject="Answered in time")
    tickets.add_staff_reply(ticket=in_time, author=staff_user, body="Done", now=at(25, 10))
    return {
        "breached": open_ticket(owner, site_down, at(26, 9), subject="Unanswered past the deadline"),
        "at_risk": open_ticket(owner, site_down, at(26, 16, 30), subject="Due 10:30", service=hosting),
        "today": open_ticket(owner, site_down, at(27, 6), subject="Due 12:00"),
        "later": open_ticket(owner, site_down, at(27, 9), priority=Priority.STANDARD, subject="Due Monday"),
        "no_target": open_ticket(
            owner, InterventionType.objects.get(code="hosting-coding"), at(20, 9), subject="No response time"
        ),
        "closed": tickets.close(ticket=open_ticket(owner, site_down, at(20, 9), subject="Closed"), by=owner),
        "other": tickets.open_ticket(
            customer=other_owner.memberships.get().customer,
            opened_by=other_owner,
            reason=InterventionType.objects.get(code="domains-information"),
            priority=Priority.STANDARD,
            subject="Globex question",
            description="?",
            now=at(27, 8),
        ),
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"sla": "breached"}, ["Answered late", "Unanswered past the deadline"]),
        ({"sla": "at_risk"}, ["Due 10:30"]),
        ({"sla": "due_today"}, ["Due 10:30", "Due 12:00"]),
        ({"priority__exact": "standard"}, ["Due Monday", "Globex question"]),
        ({"kind__exact": "information"}, ["Globex question", "No response time"]),
        ({"status": "closed"}, ["Closed"]),
        ({"status": "in_progress"}, ["Answered in time", "Answered late"]),
        ({"service_kind": "shared_hosting"}, ["Due 10:30"]),
        ({"q": "globex"}, ["Globex question"]),
        ({"q": "10:30"}, ["Due 10:30"]),
    ],
)
def test_each_filter_and_the_search_show_the_right_tickets(staff_client, desk, query, expected):
    assert shown(staff_client.get(CHANGELIST, query)) == sorted(expected)


@pytest.mark.django_db
def test_the_open_status_filter_leaves_out_closed_tickets(staff_client, desk):
    assert "Closed" not in shown(staff_client.get(CHANGELIST, {"status": "open"}))
    assert len(shown(staff_client.get(CHANGELIST, {"status": "open"}))) == 8  # of 9


@pytest.mark.django_db
def test_a_search_by_ticket_number_finds_that_ticket(staff_client, desk):
    assert shown(staff_client.get(CHANGELIST, {"q": desk["today"].number})) == ["Due 12:00"]


@pytest.mark.django_db
def test_the_assignee_filter_finds_mine_a_colleagues_and_the_unassigned(staff_client, staff_user, desk):
    colleague = UserFactory(email="colleague@portal.example", is_staff=True)
    tickets.assign(ticket=desk["today"], assignee=staff_user, by=staff_user)
    tickets.assign(ticket=desk["later"], assignee=colleague, by=staff_user)
    assert shown(staff_client.get(CHANGELIST, {"assignee": "me"})) == ["Due 12:00"]
    assert shown(staff_client.get(CHANGELIST, {"assignee": str(colleague.pk)})) == ["Due Monday"]
    unassigned = shown(staff_client.get(CHANGELIST, {"assignee": "none"}))
    assert "Due 12:00" not in unassigned and "Due Monday" not in unassigned and len(unassigned) == 7


@pytest.mark.django_db
@pytest.mark.parametrize("query", [{"assignee": "²"}, {"customer__id__exact": "²"}])
def test_a_filter_value_that_is_not_a_number_is_no_server_error(staff_client, query):
    # "²".isdigit() is true, int("²") raises: both filters answered 500 before they checked isdecimal().
    assert staff_client.get(CHANGELIST, query).status_code in (200, 302)


@pytest.mark.django_db
def test_the_service_kind_filter_finds_tickets_without_a_service(staff_client, desk):
    assert "Due 10:30" not in shown(staff_client.get(CHANGELIST, {"service_kind": "none"}))
    assert "Due 12:00" in shown(staff_client.get(CHANGELIST, {"service_kind": "none"}))


@pytest.mark.django_db
def test_a_ticket_due_at_six_is_at_risk_that_evening_and_breached_from_the_next_opening(staff_client, owner, site_down):
    open_ticket(owner, site_down, at(27, 14), subject="Due 18:00")  # Friday: 4 working hours → 18:00
    with time_machine.travel(at(27, 19), tick=False):
        assert shown(staff_client.get(CHANGELIST, {"sla": "at_risk"})) == ["Due 18:00"]
        assert shown(staff_client.get(CHANGELIST, {"sla": "breached"})) == []
    with time_machine.travel(datetime.datetime(2026, 11, 30, 8, 0, 1, tzinfo=BRUSSELS), tick=False):
        assert shown(staff_client.get(CHANGELIST, {"sla": "breached"})) == ["Due 18:00"]


# The actions


def act(client, action: str, *selected: Ticket):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [t.pk for t in selected], "index": "0"}, follow=True
    )


@pytest.mark.django_db
def test_assign_to_me_assigns_and_records_the_history(staff_client, staff_user, owner, site_down):
    first, second = open_ticket(owner, site_down, at(27, 8)), open_ticket(owner, site_down, at(27, 9))
    response = act(staff_client, "assign_to_me", first, second)
    assert "2 tickets changed." in response.content.decode()
    assert Ticket.objects.filter(assignee=staff_user).count() == 2
    event = TicketEvent.objects.get(ticket=first, field=TicketEvent.Field.ASSIGNEE)
    assert (event.actor, event.new_value) == (staff_user, "staff@portal.example")


@pytest.mark.django_db
def test_art_7_2_a_priority_change_by_action_recomputes_the_deadline_from_the_logging_time(
    staff_client, staff_user, owner, site_down
):
    ticket = open_ticket(owner, site_down, at(26, 16), priority=Priority.STANDARD)
    assert ticket.response_deadline == at(27, 16)  # 2 h Thursday + 8 h Friday
    act(staff_client, "set_express", ticket)
    ticket.refresh_from_db()
    assert ticket.priority == Priority.EXPRESS
    assert ticket.response_deadline == at(27, 10)  # 4 h from the logging time, not from the change
    event = TicketEvent.objects.get(ticket=ticket, field=TicketEvent.Field.PRIORITY)
    assert (event.old_value, event.new_value, event.actor) == ("Standard", "Express", staff_user)
    act(staff_client, "set_standard", ticket)
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.response_deadline) == (Priority.STANDARD, at(27, 16))


@pytest.mark.django_db
def test_art_7_4_mark_awaiting_credits_changes_the_status_tells_the_customer_and_skips_closed_tickets(
    staff_client, owner, site_down, django_capture_on_commit_callbacks
):
    waiting = open_ticket(owner, site_down, at(27, 8))
    closed = tickets.close(ticket=open_ticket(owner, site_down, at(27, 8)), by=owner)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = act(staff_client, "mark_awaiting_credits", waiting, closed)
    assert "1 ticket changed." in response.content.decode()
    waiting.refresh_from_db()
    closed.refresh_from_db()
    assert (waiting.status, closed.status) == (Status.AWAITING_CREDITS, Status.CLOSED)
    assert TicketEvent.objects.filter(ticket=waiting, field="status", new_value="Awaiting credits").exists()
    assert [m.subject.startswith(f"[{waiting.number}]") for m in mail.outbox] == [True]


@pytest.mark.django_db
def test_close_closes_with_the_closing_time_and_history(staff_client, staff_user, owner, site_down):
    ticket = open_ticket(owner, site_down, at(27, 8))
    act(staff_client, "close", ticket)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.closed_at) == (Status.CLOSED, NOW)
    event = TicketEvent.objects.get(ticket=ticket, field="status")
    assert (event.old_value, event.new_value, event.actor) == ("New", "Closed", staff_user)


# The ticket page


@pytest.mark.django_db
def test_the_ticket_page_shows_thread_notes_history_files_and_staff_access(
    staff_client, staff_user, owner, customer, site_down
):
    upload = SimpleUploadedFile("error.log", b"500 at /", content_type="text/plain")
    ticket = open_ticket(owner, site_down, at(27, 8), files=[upload])
    tickets.add_remark(ticket=ticket, author=owner, body="Still down at 9", now=at(27, 9))
    tickets.add_staff_reply(ticket=ticket, author=staff_user, body="Looks like PHP", internal=True, now=at(27, 9))
    url = reverse("admin:support_ticket_change", args=[ticket.pk])
    body = staff_client.get(url).content.decode()
    for text in ["Still down at 9", "Looks like PHP", "Internal note", "Customer", "error.log", ticket.number,
                 "Not granted", "Opened", f"{short(at(27, 12))} (2.00 h left)"]:  # fmt: skip
        assert text in body
    access.grant(customer=customer, by=owner, ticket=ticket)
    assert "Granted for this ticket" in staff_client.get(url).content.decode()


@pytest.mark.django_db
def test_art_7_2_a_priority_change_in_the_admin_recomputes_the_deadline_from_the_logging_time(
    staff_client, staff_user, owner, site_down
):
    ticket = open_ticket(owner, site_down, at(26, 16), priority=Priority.STANDARD)
    response = save(staff_client, ticket, priority=Priority.EXPRESS)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.response_deadline) == (Priority.EXPRESS, at(27, 10))
    assert TicketEvent.objects.filter(ticket=ticket, field="priority", actor=staff_user).count() == 1


@pytest.mark.django_db
def test_art_7_2_staff_change_the_reason_also_to_a_retired_entry_and_the_deadline_follows_its_kind(
    staff_client, staff_user, owner, site_down
):
    ticket = open_ticket(owner, site_down, at(26, 16))  # Express incident: due Friday 10:00
    information = InterventionType.objects.get(code="hosting-information")
    information.is_active = False
    information.save()
    assert (
        "Information request (retired)"
        in staff_client.get(reverse("admin:support_ticket_change", args=[ticket.pk])).content.decode()
    )
    save(staff_client, ticket, reason=str(information.pk))
    ticket.refresh_from_db()
    assert (ticket.reason, ticket.kind) == (information, "information")
    assert ticket.response_deadline == at(27, 16)  # Express information: one working day from Thursday 16:00
    event = TicketEvent.objects.get(ticket=ticket, field="reason")
    assert (event.old_value, event.new_value) == ("Website not reachable", "Information request")


@pytest.mark.django_db
def test_status_and_assignee_changed_on_the_page_go_through_the_ticket_functions(
    staff_client, staff_user, owner, site_down, django_capture_on_commit_callbacks
):
    ticket = open_ticket(owner, site_down, at(27, 8))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        save(staff_client, ticket, status=Status.WAITING_ON_CUSTOMER, assignee=str(staff_user.pk))
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == (Status.WAITING_ON_CUSTOMER, staff_user)
    assert set(TicketEvent.objects.filter(ticket=ticket).values_list("field", flat=True)) == {
        "opened", "status", "assignee",
    }  # fmt: skip
    assert len(mail.outbox) == 1 and "Waiting for your reply" in mail.outbox[0].body


@pytest.mark.django_db
def test_saving_the_page_does_not_undo_a_change_made_since_it_was_shown(staff_client, owner, site_down):
    ticket = open_ticket(owner, site_down, at(27, 8))
    data = change_form(staff_client, ticket)
    tickets.close(ticket=ticket, by=owner)  # the customer closes it while staff write their reply
    data.update(reply_fields(ticket, "Fixed it for you."))
    staff_client.post(reverse("admin:support_ticket_change", args=[ticket.pk]), data)
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.remarks.get().body == "Fixed it for you."


@pytest.mark.django_db
def test_art_7_6_the_first_public_reply_stamps_the_first_response_once(
    staff_client, staff_user, owner, site_down, django_capture_on_commit_callbacks
):
    ticket = open_ticket(owner, site_down, at(27, 8))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_reply(staff_client, ticket, "We are on it.")
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.first_response_at, ticket.responded_in_time, ticket.status) == (NOW, True, Status.IN_PROGRESS)
    remark = ticket.remarks.get()
    assert (remark.author, remark.by_staff, remark.is_internal) == (staff_user, True, False)
    assert [m.subject.startswith(f"[{ticket.number}]") for m in mail.outbox] == [True]
    with time_machine.travel(at(27, 15), tick=False):
        post_reply(staff_client, ticket, "Fixed.")
    ticket.refresh_from_db()
    assert ticket.first_response_at == NOW
    assert TicketEvent.objects.filter(ticket=ticket, field="first_response").count() == 1
    assert ticket.remarks.count() == 2


@pytest.mark.django_db
def test_an_internal_note_does_not_stamp_the_first_response_nor_reach_the_customer(
    staff_client, owner, site_down, django_capture_on_commit_callbacks
):
    ticket = open_ticket(owner, site_down, at(27, 8))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        post_reply(staff_client, ticket, "Check the PHP version first.", internal=True)
    ticket.refresh_from_db()
    assert (ticket.first_response_at, ticket.status) == (None, Status.NEW)
    assert ticket.remarks.get().is_internal
    assert mail.outbox == []
    assert "Check the PHP version first." not in client_for(owner).get(ticket.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_existing_messages_cannot_be_edited_or_deleted_from_the_page(staff_client, owner, site_down):
    ticket = open_ticket(owner, site_down, at(27, 8))
    tickets.add_remark(ticket=ticket, author=owner, body="Original words", now=at(27, 9))
    data = change_form(staff_client, ticket)
    data.update({"remarks-0-body": "Rewritten", "remarks-0-DELETE": "on"})
    staff_client.post(reverse("admin:support_ticket_change", args=[ticket.pk]), data)
    assert list(Remark.objects.values_list("body", flat=True)) == ["Original words"]


@pytest.mark.django_db
def test_tickets_and_history_can_be_neither_added_nor_deleted_in_the_admin(staff_client, owner, site_down):
    ticket = open_ticket(owner, site_down, at(27, 8))
    assert staff_client.get(reverse("admin:support_ticket_add")).status_code == 403
    assert (
        staff_client.post(reverse("admin:support_ticket_delete", args=[ticket.pk]), {"post": "yes"}).status_code == 403
    )
    assert Ticket.objects.filter(pk=ticket.pk).exists()


@pytest.mark.django_db
def test_attachments_are_served_to_staff_through_the_admin_only(staff_client, owner, other_owner, site_down, client):
    upload = SimpleUploadedFile("screen.png", b"\x89PNG fake", content_type="image/png")
    ticket = open_ticket(owner, site_down, at(27, 8), files=[upload])
    attachment = ticket.attachments.get()
    url = reverse("admin:support_ticket_attachment", args=[ticket.pk, attachment.pk])
    response = staff_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\x89PNG fake"
    assert 'filename="screen.png"' in response["Content-Disposition"]
    assert client.get(url).status_code == 302  # to the login page
    assert client_for(other_owner).get(url).status_code in {302, 403}
    assert client.get(f"/media/{attachment.file.name}").status_code == 404  # no public URL for the files


@pytest.mark.django_db
def test_the_ticket_page_shows_each_messages_files_and_marks_those_of_internal_notes(
    staff_client, staff_user, owner, site_down
):
    def upload(name):
        return [SimpleUploadedFile(name, b"data", content_type="text/plain")]

    ticket = open_ticket(owner, site_down, at(27, 8), files=upload("opening.txt"))
    tickets.add_staff_reply(ticket=ticket, author=staff_user, body="Note", internal=True, files=upload("secret.txt"))
    tickets.add_remark(ticket=ticket, author=owner, body="More", files=upload("more.txt"))
    body = staff_client.get(reverse("admin:support_ticket_change", args=[ticket.pk])).content.decode()
    # The ticket's files list all three; each message's row of the thread lists its own.
    assert (body.count("opening.txt"), body.count("secret.txt"), body.count("more.txt")) == (1, 2, 2)
    assert body.count(" (internal note)") == 1


# The catalogue and the read-only admins


@pytest.mark.django_db
def test_staff_list_filter_and_search_the_catalogue(staff_client):
    url = reverse("admin:support_interventiontype_changelist")
    body = staff_client.get(url, {"q": "Plesk"}).content.decode()
    assert "Plesk: using the configuration screen" in body and "Website not reachable" not in body
    assert "Restauration de fichiers" in staff_client.get(url, {"response_time_applies__exact": "0"}).content.decode()


@pytest.mark.django_db
def test_staff_add_a_catalogue_entry(staff_client):
    response = staff_client.post(
        reverse("admin:support_interventiontype_add"),
        {"code": "hosting-php-upgrade", "service_group": "hosting", "name_fr": "Mise à jour de PHP",
         "label": "PHP upgrade", "kind": "change", "unit": "per_intervention", "standard_credits": "2",
         "express_credits": "3", "response_time_applies": "on", "is_active": "on", "position": "99"},
    )  # fmt: skip
    assert response.status_code == 302
    assert (
        InterventionType.objects.get(code="hosting-php-upgrade").price_text("express") == "3 credits per intervention"
    )


@pytest.mark.django_db
def test_a_retired_entry_is_kept_on_its_tickets_and_cannot_be_deleted(staff_client, owner, site_down):
    ticket = open_ticket(owner, site_down, at(27, 8))
    response = staff_client.post(
        reverse("admin:support_interventiontype_changelist"),
        {"action": "retire", "_selected_action": [site_down.pk], "index": "0"},
        follow=True,
    )
    assert "1 entry retired." in response.content.decode()
    site_down.refresh_from_db()
    assert not site_down.is_active
    ticket.refresh_from_db()
    assert ticket.reason == site_down
    delete = reverse("admin:support_interventiontype_delete", args=[site_down.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert InterventionType.objects.filter(pk=site_down.pk).exists()


@pytest.mark.django_db
def test_art_7_3_staff_see_every_access_grant_read_only(staff_client, owner, customer, site_down):
    ticket = open_ticket(owner, site_down, at(27, 8))
    grant = access.grant(customer=customer, by=owner, ticket=ticket)
    url = reverse("admin:support_staffaccessgrant_changelist")
    assert ticket.number in staff_client.get(url).content.decode()
    assert staff_client.get(reverse("admin:support_staffaccessgrant_add")).status_code == 403
    change = reverse("admin:support_staffaccessgrant_change", args=[grant.pk])
    assert staff_client.post(change, {"revoked_at_0": "2026-11-27", "revoked_at_1": "10:00"}).status_code == 403
    delete = reverse("admin:support_staffaccessgrant_delete", args=[grant.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    grant.refresh_from_db()
    assert grant.revoked_at is None and StaffAccessGrant.objects.count() == 1


# Charging in the admin (art. 7.4)


def test_art_7_4_staff_log_time_on_the_page_and_it_is_charged_at_the_priority_rate(staff_client, owner, customer):
    from billing import ledger

    reason = InterventionType.objects.get(code="hosting-internal-migration")  # 2 / 3 credits per started 15 min
    ticket = open_ticket(owner, reason, at(23, 9), priority=Priority.EXPRESS)
    ledger.grant(customer, 10, reason="test")
    data = change_form(staff_client, ticket)
    data.update({"time_entries-0-minutes": "20", "time_entries-0-note": "Moved the database"})
    response = staff_client.post(reverse("admin:support_ticket_change", args=[ticket.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = ticket.time_entries.get()
    assert (entry.minutes, entry.credits, entry.charge) == (20, 6, "charged")
    assert ledger.balance(customer) == 4


def test_art_7_4_staff_propose_a_quote_on_the_page_and_the_customer_is_told(
    staff_client, owner, customer, django_capture_on_commit_callbacks
):
    from django.core import mail

    reason = InterventionType.objects.get(code="hosting-external-migration")  # on quote
    ticket = open_ticket(owner, reason, at(23, 9))
    data = change_form(staff_client, ticket)
    data.update({"quotes-0-credits": "40", "quotes-0-description": "Migrate www from the old host"})
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("admin:support_ticket_change", args=[ticket.pk]), data)
    assert response.status_code == 302
    quote = ticket.quotes.get()
    assert (quote.credits, quote.status) == (40, "proposed")
    assert any(m.subject.startswith(f"[{ticket.number}] Quote") for m in mail.outbox)
