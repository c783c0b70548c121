"""Who gets what on every customer URL, GET and POST: the permission table of accounts/roles.py.

anonymous -> 302 to the login page; each role of Acme -> allowed (not 403/404) or 403 as
PERMISSIONS says; a member of another customer -> 404/403; staff without a membership -> the
no-customer page. Every request runs in a rolled-back transaction, so each starts from the same
data. Then mass assignment (extra fields change nothing) and CSRF on every state change.
"""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import Customer, Membership
from accounts.roles import PERMISSIONS, Role
from billing import ledger
from services.models import Service
from support.models import Ticket
from tests.conftest import client_for
from tests.factories import MembershipFactory
from tests.portal.test_scoping import our_url_patterns
from tests.security.pages import customer_urls, post_forms, rolled_back

pytestmark = [pytest.mark.security, pytest.mark.django_db]

# url name -> (permission for GET, permission for POST). Written down here, not read from the
# views, so a view whose decorator drifts from the table fails.
REQUIRED = {
    "dashboard": ("view", "view"),
    "team": ("view", "view"),
    "team_invite": ("manage_team", "manage_team"),
    "team_invitation_revoke": ("manage_team", "manage_team"),
    "team_change_role": ("manage_team", "manage_team"),
    "team_remove_member": ("manage_team", "manage_team"),
    "activity": ("manage_team", "manage_team"),
    "service_list": ("view", "view"),
    "service_detail": ("view", "view"),
    "hosting_restore": ("open_tickets", "open_tickets"),
    "dns_zone": ("view", "view"),
    "dns_record_add": ("manage_dns", "manage_dns"),
    "dns_record_edit": ("manage_dns", "manage_dns"),
    "dns_record_delete": ("manage_dns", "manage_dns"),
    "dns_zone_export": ("view", "view"),
    "dns_zone_history": ("view", "view"),
    "cms_update_confirm": ("open_tickets", "open_tickets"),
    "cms_update_problem": ("open_tickets", "open_tickets"),
    "m365_list": ("view", "view"),
    "m365_licences_change": ("spend", "spend"),
    "m365_end": ("spend", "spend"),
    "certificate_list": ("view", "view"),
    "certificate_new": ("manage_dns", "manage_dns"),
    "certificate_detail": ("view", "view"),
    "certificate_key_download": ("manage_dns", "manage_dns"),
    "certificate_upload": ("manage_dns", "manage_dns"),
    "certificate_answer": ("manage_dns", "manage_dns"),
    "certificate_withdraw": ("manage_dns", "manage_dns"),
    "certificate_integration": ("open_tickets", "open_tickets"),
    "certificate_document": ("view", "view"),
    "catalogue": ("view", "view"),
    "order_new": ("spend", "spend"),
    "order_list": ("view", "view"),
    "order_detail": ("view", "view"),
    "order_cancel": ("spend", "spend"),
    "domain_request_list": ("view", "view"),
    "domain_request_new": ("view", "view"),  # each role sees the kinds it may request
    "domain_request_detail": ("view", "spend"),  # answering a registration spends
    "domain_request_document": ("view", "view"),
    "ticket_list": ("view", "view"),
    "ticket_new": ("open_tickets", "open_tickets"),
    "ticket_new_reasons": ("open_tickets", "open_tickets"),
    "ticket_new_preview": ("open_tickets", "open_tickets"),
    "staff_access": ("open_tickets", "open_tickets"),
    "staff_access_revoke": ("open_tickets", "open_tickets"),
    "ticket_detail": ("view", "view"),
    "ticket_remark": ("open_tickets", "open_tickets"),
    "ticket_close": ("open_tickets", "open_tickets"),
    "ticket_reopen": ("open_tickets", "open_tickets"),
    "ticket_access": ("open_tickets", "open_tickets"),
    "ticket_attachment": ("view", "view"),
    "quote_accept": ("spend", "spend"),
    "quote_decline": ("spend", "spend"),
    "billing": ("view", "view"),
    "ledger_csv": ("view", "view"),
    "buy_credits": ("view", "view"),
    "buy_credits_post": ("spend", "spend"),
    "invoice_list": ("view", "view"),
    "invoice_detail": ("view", "view"),
    "invoice_pdf": ("view", "view"),
}
METHODS = ("get", "post")
# An empty POST names no object here, so an allowed role gets 404 (the pack to buy is missing).
EMPTY_POST_NOT_FOUND = {"buy_credits_post"}


def test_every_customer_url_is_in_the_matrix():
    names = {p.name for p in our_url_patterns()}
    assert names - REQUIRED.keys() == set(), "a new customer URL needs its row in REQUIRED"
    assert REQUIRED.keys() - names == set()


def _request(client, method, url, data=None):
    with rolled_back():
        return getattr(client, method)(url, data or {})


def test_anonymous_is_sent_to_the_login_page(acme_objects):
    client = Client()
    for name, url in customer_urls(acme_objects).items():
        for method in METHODS:
            response = _request(client, method, url)
            if response.status_code == 405 and method == "get":
                continue  # a POST-only URL refuses GET before anything else
            assert response.status_code == 302, f"{method.upper()} {name} answered {response.status_code}"
            assert response["Location"].startswith(reverse(settings.LOGIN_URL)), f"{name} -> {response['Location']}"


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_what_the_permission_table_says(acme_objects, customer, role, reauthenticated):
    membership = Membership.objects.filter(customer=customer, role=role).first()
    user = membership.user if membership else MembershipFactory(customer=customer, role=role).user
    client = client_for(user)
    for name, url in customer_urls(acme_objects).items():
        for method, permission in zip(METHODS, REQUIRED[name], strict=True):
            response = _request(client, method, url)
            where = f"{role}: {method.upper()} {name} answered {response.status_code}"
            if Role(role) in PERMISSIONS[permission]:
                if method == "post" and name in EMPTY_POST_NOT_FOUND and response.status_code == 404:
                    continue
                assert response.status_code in (200, 302, 405), where
                assert response.status_code != 405 or method == "get", where
            else:
                assert response.status_code in (403, 405), where
                assert response.status_code != 405 or method == "get", where


def test_a_member_of_another_customer_gets_404_or_403(acme_objects, other_owner, reauthenticated):
    client = client_for(other_owner)
    for name, url in customer_urls(acme_objects).items():
        if "<" not in str(next(p for p in our_url_patterns() if p.name == name).pattern):
            continue  # pages without an object show the other customer's own data (test_scoping.py)
        for method in METHODS:
            response = _request(client, method, url)
            assert response.status_code in (403, 404, 405), f"POST {name} answered {response.status_code}"
            assert response.status_code != 405 or method == "get"


def test_staff_without_a_membership_see_no_customer_data(acme_objects, staff_user):
    client = client_for(staff_user)
    for name, url in customer_urls(acme_objects).items():
        for method in METHODS:
            response = _request(client, method, url)
            assert response.status_code in (302, 404, 405), f"{method.upper()} {name}: {response.status_code}"
            if response.status_code == 302:
                assert response["Location"] == reverse("no_customer"), f"{name} -> {response['Location']}"
            assert "secret-acme" not in response.content.decode(errors="replace")


EXTRA_FIELDS = {
    "is_staff": "on", "is_superuser": "on", "is_active": "on", "balance": "999999", "credits": "999999",
    "status": "paid", "amount": "0", "total": "0", "price": "0", "number": "X-1", "user": "1",
    "opened_by": "1", "by_staff": "on", "paid_at": "2020-01-01", "key_downloaded_at": "",
}  # fmt: skip


def _forms(client, urls):
    found = {}
    for url in urls.values():
        with rolled_back():
            response = client.get(url)
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            for form in post_forms(response.content.decode(), url):
                found.setdefault(form.action, form)
    return found


def test_extra_post_fields_change_nothing_they_should_not(
    acme_objects, customer, owner, other_customer, reauthenticated
):
    client = client_for(owner)
    urls = customer_urls(acme_objects)
    forms = _forms(client, urls)
    assert len(forms) >= 15, sorted(forms)  # the walk really finds the portal's forms
    targets = {form.action: form.initial() for form in forms.values()}
    for url in urls.values():
        targets.setdefault(url, {})
    balance = ledger.balance(customer)
    roles = dict(Membership.objects.filter(customer=customer).values_list("pk", "role"))
    for action, data in targets.items():
        posted = {**data, **EXTRA_FIELDS, "customer": other_customer.pk, "customer_id": other_customer.pk}
        if "role" not in data:
            posted["role"] = Role.OWNER
        with rolled_back():
            response = client.post(action, posted)
            assert response.status_code < 500, action
            owner.refresh_from_db()
            assert not owner.is_staff and not owner.is_superuser, action
            assert ledger.balance(customer) == balance, f"{action} changed the balance"
            assert not Ticket.objects.filter(customer=other_customer).exists(), action
            assert not Service.objects.filter(customer=other_customer).exists(), action
            assert not Membership.objects.filter(customer=other_customer).exists(), action
            assert Customer.objects.get(pk=other_customer.pk).name == other_customer.name
            if "role" not in data:
                now = dict(Membership.objects.filter(customer=customer).values_list("pk", "role"))
                assert all(roles[pk] == r for pk, r in now.items() if pk in roles), f"{action} changed a role"


def test_every_state_change_needs_the_csrf_token(acme_objects, owner, reauthenticated):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    for name, url in customer_urls(acme_objects).items():
        with rolled_back():
            response = client.post(url, {"body": "x", "role": Role.OWNER})
        assert response.status_code == 403, f"POST {name} without the CSRF token answered {response.status_code}"
    # The sign-in pages, the customer switch and the language switch are state changes too.
    for name in ("account_login", "account_logout", "account_change_password", "account_reset_password",
                 "account_email", "mfa_activate_totp", "switch_customer", "set_language"):  # fmt: skip
        with rolled_back():
            response = client.post(reverse(name), {"login": owner.email, "password": "x", "customer": "1"})
        assert response.status_code == 403, f"POST {name} without the CSRF token answered {response.status_code}"
