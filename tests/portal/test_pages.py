import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts.models import Customer, Membership, User
from services.models import Service


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("account_login")
    assert client.get(reverse("dashboard")).status_code == 302


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy_and_security_headers(client):
    response = client.get(reverse("account_login"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_pages_have_no_inline_script_and_load_htmx_from_our_static_files(owner_client):
    body = owner_client.get(reverse("dashboard")).content.decode()
    assert '<script src="/static/django_htmx/htmx-2.min.js"' in body
    assert "<script>" not in body and "onclick=" not in body and "style=" not in body
    assert 'hx-headers=\'{"X-CSRFToken": "' in body


@pytest.mark.django_db
def test_the_navigation_names_every_section(owner_client):
    body = owner_client.get(reverse("dashboard")).content.decode()
    for label in [
        "Dashboard",
        "Services",
        "Domains",
        "Certificates",
        "Microsoft 365",
        "Support",
        "Credits & invoices",
        "Team",
    ]:
        assert label in body


@pytest.mark.django_db
def test_an_unknown_page_is_a_friendly_404(owner_client):
    response = owner_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We cannot find this page" in response.content.decode()


@pytest.mark.django_db
def test_a_forbidden_action_is_a_friendly_403(technical_client):
    response = technical_client.get(reverse("activity"))
    assert response.status_code == 403
    assert "Your role at this customer does not allow" in response.content.decode()


@pytest.mark.django_db
def test_the_language_switcher_sets_the_language(owner_client):
    response = owner_client.post(reverse("set_language"), {"language": "fr", "next": reverse("dashboard")})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "fr"


@pytest.mark.django_db
def test_load_demo_creates_the_demo_once_and_leaves_it_on_a_second_run(settings, capsys):
    settings.DEBUG = True
    call_command("load_demo", "--password", "another-demo-password")
    counts = (Customer.objects.count(), User.objects.count(), Membership.objects.count(), Service.objects.count())
    call_command("load_demo")
    assert (
        Customer.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        Service.objects.count(),
    ) == counts
    assert set(Customer.objects.values_list("name", flat=True)) == {"Acme SRL", "Globex NV"}
    assert Membership.objects.get(user__email="owner@acme.example").role == "owner"
    assert Membership.objects.get(user__email="tech@acme.example").role == "technical"
    assert Membership.objects.get(user__email="owner@globex.example").customer.name == "Globex NV"
    staff = User.objects.get(email="staff@portal.example")
    assert staff.is_staff and staff.check_password("another-demo-password")
    for customer in Customer.objects.all():
        customer.full_clean()  # demo VAT numbers are valid
    assert "created: 0 customers, 0 users" in capsys.readouterr().out


@pytest.mark.django_db
def test_load_demo_refuses_to_run_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG off"):
        call_command("load_demo")
    call_command("load_demo", "--force")
    assert Customer.objects.count() == 2


@pytest.mark.django_db
def test_demo_logins_work_with_the_default_password(client, settings):
    settings.DEBUG = True
    call_command("load_demo")
    response = client.post(reverse("account_login"), {"login": "tech@acme.example", "password": "portal-demo-2026"})
    assert response.status_code == 302
    assert "Acme SRL" in client.get(reverse("dashboard")).content.decode()


def test_a_server_error_page_says_nothing_was_lost(rf):
    from portal.views import error_500

    response = error_500(rf.get("/"))
    assert response.status_code == 500
    assert "nothing you sent has been lost" in response.content.decode()


@pytest.mark.django_db
def test_load_demo_adds_tickets_of_every_kind_and_status_some_breached_for_both_customers(settings):
    from support.models import Kind, Status, Ticket

    settings.DEBUG = True
    call_command("load_demo")
    demo = Ticket.objects.all()
    assert set(demo.values_list("customer__name", flat=True)) == {"Acme SRL", "Globex NV"}
    assert set(demo.values_list("kind", flat=True)) == set(Kind.values)
    assert set(demo.values_list("status", flat=True)) == set(Status.values)
    assert any(ticket.response_state() in ("overdue", "late") for ticket in demo)
    call_command("load_demo")
    assert Ticket.objects.count() == demo.count()


@pytest.mark.django_db
def test_load_demo_adds_packs_invoices_a_balance_and_charged_tickets_and_the_sample_statement_imports_cleanly(settings):
    from pathlib import Path

    from billing import ledger
    from billing.models import CreditPack, Invoice
    from support.models import Quote, TimeEntry

    settings.DEBUG = True
    call_command("load_demo")
    acme, globex = Customer.objects.get(name="Acme SRL"), Customer.objects.get(name="Globex NV")
    assert CreditPack.objects.count() == 3
    assert Invoice.objects.filter(status="paid").exists() and Invoice.objects.filter(status="issued").count() == 2
    assert ledger.balance(acme) == 50 - 6 - 3  # a 45-minute migration (3 quarters x 2) and a DNS update (3)
    assert TimeEntry.objects.filter(charge="charged").count() == 2
    assert TimeEntry.objects.filter(charge="awaiting_credits", ticket__customer=globex).exists()
    assert Quote.objects.filter(status="proposed").exists()

    sample = Path(settings.BASE_DIR) / "tests" / "data" / "camt053-sample.xml"
    call_command("import_bank_statement", str(sample))
    once = (ledger.balance(acme), ledger.balance(globex))
    call_command("import_bank_statement", str(sample))
    assert (ledger.balance(acme), ledger.balance(globex)) == once == (41 + 10, 0)
    assert Invoice.objects.get(customer=globex, status="issued")  # paid 100.00 of 278.30: still to pay


@pytest.mark.django_db
def test_load_demo_adds_hosting_data_domains_zones_certificates_and_licences_in_every_state(settings):
    from services.models import (
        Backup,
        CertificateRequest,
        CmsUpdate,
        DnsRecord,
        DomainRequest,
        HostingUsage,
        LicenceChange,
        Order,
        PriceChange,
    )

    settings.DEBUG = True
    call_command("load_demo")
    assert HostingUsage.objects.exists() and Backup.objects.count() == 16
    assert set(CmsUpdate.objects.values_list("status", flat=True)) == {"confirmed", "awaiting_check"}
    assert set(Order.objects.values_list("status", flat=True)) >= {"submitted", "refused"}
    assert set(DnsRecord.objects.filter(zone__name="acme.be").values_list("type", flat=True)) == set(DnsRecord.Type)
    assert set(DomainRequest.objects.values_list("status", flat=True)) >= {
        "pending_registry", "information_requested", "rejected", "completed",
    }  # fmt: skip
    assert set(CertificateRequest.objects.values_list("status", flat=True)) == set(CertificateRequest.Status)
    from django.utils import timezone

    days_left = {
        (c.not_after - timezone.now()).days for r in CertificateRequest.objects.all() for c in r.certificates.all()
    }
    assert days_left & {9, 10} and days_left & {39, 40}  # one expiring in 10 days, one in 40
    assert LicenceChange.objects.filter(fulfilment="pending").exists()
    assert PriceChange.objects.filter(announced_at__isnull=False).exists()
    call_command("load_demo")  # a second run leaves it as it is
    assert Backup.objects.count() == 16
