"""Look and feel (issue 9): loading indicators on htmx requests, a question before destructive
actions, validation messages beside their field.

The walks visit every customer page of `make screenshots` with the demo data, as the demo owner.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test.html import Element, parse_html
from django.urls import resolve, reverse
from django.utils import timezone

from accounts import demo
from accounts.models import Invitation, User
from services.models import CertificateRequest, DnsRecord, Kind
from tests.browser.test_screenshots import OWNER, customer_pages
from tests.factories import PlanFactory, ServiceFactory

REQUESTS = ("hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete")
# Actions that destroy or cancel something, and pages whose only form is the question itself.
DESTRUCTIVE = {
    "m365_licences_change", "m365_end", "certificate_withdraw", "team_remove_member", "team_invitation_revoke",
    "dns_record_delete", "order_cancel", "quote_decline", "ticket_close",
}  # fmt: skip
# Without JavaScript these ask otherwise: the record's deletion answers with its confirmation page, and
# a closed ticket can be reopened.
WITHOUT_JAVASCRIPT = {"dns_record_delete", "ticket_close"}


def walk(node, ancestors=()):
    """Every element of a parsed page, with its ancestors (nearest last)."""
    if isinstance(node, Element):
        yield node, ancestors
        for child in node.children:
            yield from walk(child, (*ancestors, node))


def attrs(element) -> dict[str, str]:
    return {name: value or "" for name, value in element.attributes}


def matches(element, selector: str) -> bool:
    if selector.startswith("."):
        return selector[1:] in attrs(element).get("class", "").split()
    if selector.startswith("#"):
        return attrs(element).get("id") == selector[1:]
    return element.name == selector


def describe(element) -> str:
    return "<{} {}>".format(element.name, " ".join(f'{k}="{v}"' for k, v in element.attributes)[:200])


def indicator_problem(element, ancestors, root) -> str | None:
    """What is wrong with the loading indicator htmx would use for ``element``'s request, if anything."""
    spec = next((attrs(e)["hx-indicator"] for e in (element, *reversed(ancestors)) if "hx-indicator" in attrs(e)), None)
    if spec is None:
        return "no hx-indicator"
    if spec.startswith("find "):
        found = [e for e, _ in walk(element) if e is not element and matches(e, spec[5:])]
    elif spec.startswith("closest "):
        found = [e for e in (element, *reversed(ancestors)) if matches(e, spec[8:])]
    elif spec.startswith("#"):
        found = [e for e, _ in walk(root) if matches(e, spec)]
    else:
        return f"hx-indicator {spec!r} is not a form this test reads"
    if not found:
        return f"hx-indicator {spec!r} finds nothing"
    if not any(matches(e, ".htmx-indicator") for e, _ in walk(found[0])):
        return f"hx-indicator {spec!r} holds no .htmx-indicator"
    spinners = [e for e, _ in walk(found[0]) if matches(e, ".htmx-indicator")]
    if not all(attrs(e).get("aria-busy") == "true" for e in spinners):
        return "the .htmx-indicator is not aria-busy (Pico's spinner)"
    return None


@pytest.fixture
def demo_owner(db) -> User:
    demo.load(now=timezone.now())
    return User.objects.get(email=OWNER)


@pytest.fixture
def pages(client, demo_owner, settings) -> dict[str, Element]:
    """url -> parsed page: every customer page, plus what htmx loads into them, and objects in other states."""
    settings.ACCOUNT_REAUTHENTICATION_REQUIRED = False
    acme = demo_owner.memberships.get().customer
    Invitation.objects.create(customer=acme, email="new@acme.example", invited_by=demo_owner)
    requested = CertificateRequest.objects.filter(customer=acme, status="requested").first()
    record = DnsRecord.objects.filter(zone__service__customer=acme).first()
    client.force_login(demo_owner)
    urls = [url for _, url in customer_pages()] + [reverse("certificate_detail", args=[requested.pk])]
    parsed = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        parsed[url] = parse_html(response.content.decode())
    edit_row = reverse("dns_record_edit", args=[record.zone.service_id, record.pk])
    parsed[f"{edit_row} (htmx)"] = parse_html(client.get(edit_row, headers={"HX-Request": "true"}).content.decode())
    return parsed


def test_every_htmx_request_shows_a_loading_indicator(pages):
    problems, seen = [], 0
    for url, root in pages.items():
        for element, ancestors in walk(root):
            if any(name in attrs(element) for name in REQUESTS):
                seen += 1
                if problem := indicator_problem(element, ancestors, root):
                    problems.append(f"{url}: {describe(element)}: {problem}")
    assert seen > 20
    assert not problems, "\n".join(problems)


def _asks_without_js(form) -> bool:
    """A required box to tick, shown only when JavaScript is off (portal/confirm_without_js.html)."""
    return any(
        e.name == "input" and attrs(e).get("type") == "checkbox" and "required" in attrs(e)
        for noscript, _ in walk(form)
        if noscript.name == "noscript"
        for e, _ in walk(noscript)
    )


def _action_name(form) -> str | None:
    action = attrs(form).get("action", "")
    return resolve(urlsplit(action).path).url_name if action.startswith("/") else None


def _inputs(form) -> dict[str, str]:
    return {attrs(e).get("name"): attrs(e).get("value", "") for e, _ in walk(form) if e.name in ("input", "select")}


def test_destructive_actions_ask_before_they_act(pages):
    problems, seen = [], set()
    for url, root in pages.items():
        page_name = resolve(urlsplit(url.split(" ")[0]).path).url_name
        for form, _ in walk(root):
            name = form.name == "form" and _action_name(form)
            if name not in DESTRUCTIVE:
                continue
            seen.add(name)
            asks = {key for key in ("hx-confirm", "data-confirm", "data-confirm-fewer") if attrs(form).get(key)}
            inputs = _inputs(form)
            if name == page_name:
                continue  # the confirmation page's own button: the page is the question
            if name == "m365_licences_change" and inputs.get("delta") == "1":
                continue  # adding a licence destroys nothing
            if name == "m365_licences_change" and "quantity" in inputs:
                expected = {"data-confirm-fewer"}  # asks only when the number goes down (portal.js)
            elif "hx-post" in attrs(form):
                expected = {"hx-confirm"}
            else:
                expected = {"data-confirm"}
            if not expected <= asks:
                problems.append(f"{url}: {describe(form)} lacks {expected - asks}")
            if expected != {"data-confirm-fewer"} and name not in WITHOUT_JAVASCRIPT and not _asks_without_js(form):
                problems.append(f"{url}: {describe(form)} does not ask when JavaScript is off")
    assert seen >= DESTRUCTIVE - {"m365_end"}, f"not seen: {DESTRUCTIVE - {'m365_end'} - seen}"
    assert not problems, "\n".join(problems)
    # Ending a contract and deleting a record have a page that asks, for browsers without JavaScript too.
    for page in ("m365_end", "dns_record_delete"):
        ((url, root),) = [(u, r) for u, r in pages.items() if resolve(urlsplit(u.split(" ")[0]).path).url_name == page]
        assert len([f for f, _ in walk(root) if f.name == "form" and _action_name(f) == page]) == 1, url
        assert [a for a, _ in walk(root) if a.name == "a" and attrs(a).get("role") == "button"], f"{url}: no way back"


FIELD_ERROR = re.compile(r"{% if (?P<field>[\w.]+)\.errors %}<(?:small|ul) (?P<attrs>[^>]*)>")


def test_every_field_error_is_shown_beside_its_field_and_tied_to_it():
    """Lint of the templates: a field's error has an id that the field's aria-describedby names, and the
    field is aria-invalid. Form-level errors are <p class="error"> at the top of the form."""
    problems = []
    for path in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        if "email" in path.parts:
            continue
        text = path.read_text()
        for match in FIELD_ERROR.finditer(text):
            field, error_id = match["field"], re.search(r'id="([^"]+)"', match["attrs"])
            where = f"{path.relative_to(settings.BASE_DIR)}: {field}"
            if error_id is None:
                problems.append(f"{where}: the error has no id")
            elif error_id[1] == f"{{{{ {field}.auto_id }}}}_error":
                if f"{{{{ {field} }}}}" not in text:  # Django's widget points at <auto_id>_error itself
                    problems.append(f"{where}: the error is named for a widget Django does not render")
            else:
                described = " ".join(re.findall(r'aria-describedby="([^"]*)"', text))
                if error_id[1] not in described:
                    problems.append(f"{where}: no aria-describedby names {error_id[1]}")
                if f'{{% if {field}.errors %}}aria-invalid="true"' not in text:
                    problems.append(f"{where}: the field is not aria-invalid when it has an error")
    assert not problems, "\n".join(problems)


def test_a_ticket_sent_without_subject_shows_the_error_under_the_subject(client, owner):
    client.force_login(owner)
    response = client.post(reverse("ticket_new"), {"description": "Our site is down."})
    root = parse_html(response.content.decode())
    (subject,) = [e for e, _ in walk(root) if attrs(e).get("name") == "subject"]
    assert attrs(subject)["aria-invalid"] == "true"
    (error,) = [e for e, _ in walk(root) if attrs(e).get("id") == attrs(subject)["aria-describedby"]]
    assert "error" in attrs(error)["class"].split()
    assert str(error).strip()


def test_an_htmx_answer_leaves_out_the_box_for_browsers_without_javascript(client, owner, reauthenticated):
    # htmx parses <noscript> as markup: a hidden required box would block the swapped-in form.
    pack = ServiceFactory(
        customer=owner.memberships.get().customer, name="Acme Office", quantity=3, current_period_end=None,
        plan=PlanFactory(kind=Kind.M365_PACK, period_months=0, specifications={"max_users": 300}),
    )  # fmt: skip
    client.force_login(owner)
    assert 'class="confirm-without-js"' in client.get(reverse("m365_list")).content.decode()
    fragment = client.post(
        reverse("m365_licences_change", args=[pack.pk]), {"delta": "1"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert 'hx-confirm="Cancel one licence of Acme Office?' in fragment
    assert "confirm-without-js" not in fragment
