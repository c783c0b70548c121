"""Shared hosting (art. 3): usage against the plan's limits, backups and their restoration (3.1.5),
managed-CMS updates the customer checks (3.2.2) and the reminder before the contract ends (3.5)."""

import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import NoReverseMatch, reverse

from accounts.models import AuditEvent
from accounts.roles import Role
from services import hosting, hosting_platform
from services.models import Backup, CmsUpdate, DnsZone, HostingUsage, Kind, Service, ServiceEvent
from support.models import Priority, Ticket
from tests.conftest import client_for
from tests.factories import MembershipFactory, PlanFactory, ServiceFactory

BRUSSELS = ZoneInfo("Europe/Brussels")
NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=BRUSSELS)
TODAY = NOW.date()

frozen = time_machine.travel(NOW, tick=False)


@pytest.fixture
def site(customer):
    return ServiceFactory(
        customer=customer, name="www.acme.example",
        plan=PlanFactory(kind=Kind.SHARED_HOSTING, specifications={"disk_gb": 10, "traffic_gb": 100}),
    )  # fmt: skip


@pytest.fixture
def managed_cms(customer, site):
    plan = PlanFactory(kind=Kind.MANAGED_CMS, requires_kind=Kind.SHARED_HOSTING, specifications={"cms": "WordPress"})
    return ServiceFactory(customer=customer, name="WordPress for www", plan=plan, parent=site)


def backup(service, reference: str, days_ago: float, size_mb: int = 800) -> Backup:
    taken_at = NOW - datetime.timedelta(days=days_ago)
    return hosting.record_backup(service=service, reference=reference, taken_at=taken_at, size_mb=size_mb)[0]


def page(client, service) -> str:
    response = client.get(service.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def restore_url(service, reference: str = "") -> str:
    return reverse("hosting_restore", args=[service.pk]) + (f"?backup={reference}" if reference else "")


# The platform interface


@pytest.mark.django_db
def test_the_manual_platform_reports_only_what_was_recorded(site, staff_user):
    platform = hosting_platform.get_platform()
    assert isinstance(platform, hosting_platform.ManualPlatform)
    assert platform.usage(site) is None and platform.backups(site, NOW - datetime.timedelta(days=14)) == []
    hosting.record_usage(service=site, disk_mb=100, traffic_mb=10, measured_at=NOW - datetime.timedelta(days=1))
    hosting.record_usage(service=site, disk_mb=200, traffic_mb=20, measured_at=NOW, by=staff_user)
    backup(site, "daily-1", days_ago=1)
    backup(site, "daily-20", days_ago=20)
    assert platform.usage(site) == hosting_platform.Usage(measured_at=NOW, disk_mb=200, traffic_mb=20)
    assert [b.reference for b in platform.backups(site, NOW - datetime.timedelta(days=14))] == ["daily-1"]


class FixedPlatform:
    def usage(self, service):
        return hosting_platform.Usage(measured_at=NOW, disk_mb=1, traffic_mb=2)

    def backups(self, service, since):
        return [hosting_platform.Backup(reference="remote-1", taken_at=NOW, size_mb=3)]


@pytest.mark.django_db
@frozen
def test_the_platform_backend_is_a_setting(settings, owner_client, site):
    settings.HOSTING_PLATFORM_BACKEND = "tests.services.test_hosting.FixedPlatform"
    assert isinstance(hosting_platform.get_platform(), FixedPlatform)
    assert "remote-1" in page(owner_client, site)


# Usage against the plan's limits (art. 3.1.4)


@pytest.mark.django_db
@frozen
def test_art_3_1_4_the_hosting_page_shows_disk_and_traffic_against_the_plan_limits(owner_client, site):
    hosting.record_usage(service=site, disk_mb=5 * 1024, traffic_mb=25 * 1024, measured_at=NOW)
    body = page(owner_client, site)
    assert '<meter id="gauge-disk_mb" min="0" max="10240"' in body and 'value="5120"' in body
    assert "5.0\xa0GB of 10.0\xa0GB (50 %)" in body
    assert "25.0\xa0GB of 100.0\xa0GB (25 %)" in body
    assert "Over 90 %" not in body


@pytest.mark.django_db
@frozen
def test_art_3_1_4_a_gauge_warns_from_90_percent_and_over_the_limit(owner_client, site):
    hosting.record_usage(service=site, disk_mb=9500, traffic_mb=110 * 1024, measured_at=NOW)
    body = page(owner_client, site)
    assert "Over 90 % of the limit of your plan." in body  # disk: 9500 of 10240 MB
    assert "Over the limit of your plan" in body  # traffic: 110 of 100 GB
    gauges = hosting.usage_gauges(site, hosting_platform.get_platform().usage(site))
    assert [(g.percent, g.is_near_limit, g.is_over_limit) for g in gauges] == [(92, True, False), (110, True, True)]


@pytest.mark.django_db
def test_a_plan_without_limits_shows_the_usage_alone_and_nothing_measured_says_so(owner_client, customer):
    unlimited = ServiceFactory(customer=customer, plan=PlanFactory(specifications={"databases": 2}))
    assert "has not reported the usage of this hosting yet" in page(owner_client, unlimited)
    hosting.record_usage(service=unlimited, disk_mb=2048, traffic_mb=0)
    body = page(owner_client, unlimited)
    assert "2.0\xa0GB used; your plan sets no limit." in body and "<meter" not in body


@pytest.mark.django_db
def test_usage_and_backups_are_recorded_for_a_shared_hosting_only(customer):
    domain = ServiceFactory(customer=customer, plan=PlanFactory(kind=Kind.DOMAIN))
    with pytest.raises(ValidationError):
        hosting.record_usage(service=domain, disk_mb=1, traffic_mb=1)
    with pytest.raises(ValidationError):
        hosting.record_backup(service=domain, reference="x", taken_at=NOW)


# Period, renewal, add-ons and history


@pytest.mark.django_db
@frozen
def test_the_hosting_page_shows_its_period_renewal_addons_and_history(owner_client, site, managed_cms, staff_user):
    ServiceEvent.objects.create(
        service=site, field=ServiceEvent.Field.STATUS, old_value="Pending", new_value="Active", actor=staff_user
    )
    body = page(owner_client, site)
    assert "Jan. 1, 2027" in body and "35 days left" in body
    assert "renews on Jan. 1, 2027 once the invoice of the next period is paid" in body
    assert managed_cms.get_absolute_url() in body
    assert "<td>Pending</td><td>Active</td><td>Our staff</td>" in body


@pytest.mark.django_db
def test_an_addon_page_shows_the_hosting_it_belongs_to(owner_client, site, managed_cms):
    body = page(owner_client, managed_cms)
    assert f'<a href="{site.get_absolute_url()}">www.acme.example</a>' in body
    assert "it ends when this hosting ends" in body


# Backups (art. 3.1.5)


@pytest.mark.django_db
@frozen
def test_art_3_1_5_the_hosting_page_lists_the_backups_of_the_last_14_days_and_not_older_ones(owner_client, site):
    for day in range(20):
        backup(site, f"daily-{day:02d}", days_ago=day + 0.5)
    body = page(owner_client, site)
    assert "at least 14 days" in body
    listed = [f"daily-{day:02d}" for day in range(14)]
    assert all(f"<td>{reference}</td>" in body for reference in listed)
    assert all(f"<td>daily-{day:02d}</td>" not in body for day in range(14, 20))
    assert restore_url(site, "daily-00") in body


@pytest.mark.django_db
@frozen
def test_the_backup_window_is_a_setting(settings, owner_client, site):
    settings.BACKUP_RETENTION_DAYS = 30
    backup(site, "monthly", days_ago=20)
    assert "<td>monthly</td>" in page(owner_client, site)


@pytest.mark.django_db
@frozen
def test_art_3_1_5_the_restore_confirmation_shows_the_annex_1_reason_its_price_and_no_response_time(owner_client, site):
    backup(site, "daily-2026-11-26", days_ago=1, size_mb=850)
    body = owner_client.get(restore_url(site, "daily-2026-11-26")).content.decode()
    assert "Restauration de fichiers à partir d&#x27;une sauvegarde" in body
    assert "daily-2026-11-26" in body and "850 MB" in body
    assert "Standard — 4 credits per started 15 minutes" in body
    assert "Express — 5 credits per started 15 minutes" in body
    assert "<dt>Price</dt><dd>4 credits per started 15 minutes</dd>" in body
    assert "No response time applies to this reason (marked ¹ in annex 1)." in body
    assert not Ticket.objects.exists()


@pytest.mark.django_db
@frozen
def test_art_3_1_5_the_price_preview_follows_the_chosen_priority(owner_client, site):
    backup(site, "daily-1", days_ago=1)
    response = owner_client.get(
        restore_url(site, "daily-1") + "&priority=express", headers={"HX-Request": "true"}
    )  # fmt: skip
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="restore-preview"') and "<html" not in body
    assert "5 credits per started 15 minutes" in body
    # Without JavaScript the preview button posts the form back and opens nothing.
    response = owner_client.post(restore_url(site), {"backup": "daily-1", "priority": "express", "preview": "1"})
    assert "<dt>Price</dt><dd>5 credits per started 15 minutes</dd>" in response.content.decode()
    assert not Ticket.objects.exists()


@pytest.mark.django_db
@frozen
def test_art_3_1_5_asking_for_a_restore_opens_a_change_request_naming_the_backup(
    technical_client, technical_member, site, django_capture_on_commit_callbacks
):
    backup(site, "daily-2026-11-26", days_ago=1, size_mb=850)
    with django_capture_on_commit_callbacks(execute=True):
        response = technical_client.post(
            restore_url(site),
            {"backup": "daily-2026-11-26", "priority": Priority.EXPRESS, "note": "Only the wp-content folder."},
        )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response.url == ticket.get_absolute_url()
    assert ticket.reason.code == "hosting-restore-backup" and ticket.kind == "change"
    assert (ticket.service, ticket.customer, ticket.opened_by) == (site, site.customer, technical_member)
    assert ticket.priority == Priority.EXPRESS and ticket.response_deadline is None  # ¹: no response time
    assert ticket.subject == "Restore the backup daily-2026-11-26 of www.acme.example"
    assert "daily-2026-11-26 taken on 2026-11-26 10:00 CET (850 MB)" in ticket.description
    assert "Only the wp-content folder." in ticket.description
    assert AuditEvent.objects.filter(action="hosting.restore_requested", object_id=str(site.pk)).exists()
    assert "5 credits per started 15 minutes" in technical_client.get(ticket.get_absolute_url()).content.decode()


@pytest.mark.django_db
@frozen
def test_a_backup_no_longer_listed_cannot_be_restored(owner_client, site):
    backup(site, "old", days_ago=15)
    response = owner_client.post(restore_url(site), {"backup": "old", "priority": "standard"}, follow=True)
    assert response.redirect_chain[-1][0] == site.get_absolute_url()
    assert "This backup is no longer offered" in response.content.decode()
    assert owner_client.get(restore_url(site, "unknown")).status_code == 302
    assert not Ticket.objects.exists()


@pytest.mark.django_db
@frozen
def test_a_hosting_that_is_not_active_offers_no_restore(owner_client, owner, site):
    backup(site, "daily-1", days_ago=1)
    Service.objects.filter(pk=site.pk).update(status=Service.Status.SUSPENDED)
    assert "Restore…" not in page(owner_client, site)
    response = owner_client.post(restore_url(site), {"backup": "daily-1", "priority": "standard"})
    assert "Backups can be restored while the hosting is active only." in response.content.decode()
    assert not Ticket.objects.exists()


@pytest.mark.django_db
@frozen
def test_a_billing_contact_sees_the_backups_but_cannot_ask_for_a_restore(billing_member, site):
    backup(site, "daily-1", days_ago=1)
    client = client_for(billing_member)
    body = page(client, site)
    assert "<td>daily-1</td>" in body and "Restore…" not in body
    assert client.get(restore_url(site, "daily-1")).status_code == 403
    assert client.post(restore_url(site), {"backup": "daily-1", "priority": "standard"}).status_code == 403
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_only_a_shared_hosting_has_a_restore_page(owner_client, managed_cms):
    assert owner_client.get(restore_url(managed_cms, "x")).status_code == 404


# Managed CMS updates (art. 3.2.2)


@pytest.mark.django_db
@frozen
def test_art_3_2_2_recording_a_cms_update_emails_the_customer_to_check_the_site(
    managed_cms, owner, technical_member, billing_member, staff_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        update = hosting.record_cms_update(
            service=managed_cms, description="WordPress 6.7.1 and 3 plugins updated.", by=staff_user
        )
    assert (update.status, update.recorded_by, update.applied_at) == (CmsUpdate.Status.AWAITING_CHECK, staff_user, NOW)
    [message] = mail.outbox
    assert message.subject == "[WordPress for www] We updated your CMS: please check your site"
    assert sorted(message.to) == ["owner@acme.example", "tech@acme.example"]  # billing does not look after sites
    assert "WordPress 6.7.1 and 3 plugins updated." in message.body
    assert managed_cms.get_absolute_url() in message.body and "art. 3.2.2" in message.body
    assert AuditEvent.objects.filter(action="cms_update.recorded", actor=staff_user).exists()


@pytest.mark.django_db
def test_cms_updates_are_recorded_for_a_running_managed_cms_only(site, managed_cms, staff_user):
    with pytest.raises(ValidationError):
        hosting.record_cms_update(service=site, description="update", by=staff_user)
    with pytest.raises(ValidationError):
        hosting.record_cms_update(service=managed_cms, description="  ", by=staff_user)
    Service.objects.filter(pk=managed_cms.pk).update(status=Service.Status.ENDED)
    managed_cms.refresh_from_db()
    with pytest.raises(ValidationError):
        hosting.record_cms_update(service=managed_cms, description="update", by=staff_user)
    assert not CmsUpdate.objects.exists()


@pytest.mark.django_db
@frozen
def test_art_3_2_2_the_customer_confirms_that_the_site_works(
    technical_client, technical_member, site, managed_cms, staff_user
):
    update = hosting.record_cms_update(service=managed_cms, description="Security patch 6.7.1.", by=staff_user)
    assert "1 CMS update to check" in page(technical_client, site)
    body = page(technical_client, managed_cms)
    assert "Security patch 6.7.1." in body and reverse("cms_update_confirm", args=[update.pk]) in body
    response = technical_client.post(reverse("cms_update_confirm", args=[update.pk]), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="cms-updates"')
    assert "we noted that the site works" in body and "Checked: the site works" in body
    update.refresh_from_db()
    assert (update.status, update.answered_by, update.answered_at) == (
        CmsUpdate.Status.CONFIRMED, technical_member, NOW
    )  # fmt: skip
    assert AuditEvent.objects.filter(action="cms_update.confirmed", actor=technical_member).exists()
    assert not Ticket.objects.exists()
    # Without JavaScript: a redirect back to the page; an update is answered once.
    response = technical_client.post(reverse("cms_update_confirm", args=[update.pk]), follow=True)
    assert "This update was already answered." in response.content.decode()


@pytest.mark.django_db
@frozen
def test_art_3_2_2_a_problem_report_opens_an_incident_ticket_linked_to_the_update(
    owner_client, owner, managed_cms, staff_user, django_capture_on_commit_callbacks
):
    update = hosting.record_cms_update(service=managed_cms, description="WordPress 6.7.1.", by=staff_user)
    url = reverse("cms_update_problem", args=[update.pk])
    assert "What does not work?" in owner_client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url, {"description": "The contact form fails.", "priority": "express"})
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response.url == ticket.get_absolute_url()
    assert (ticket.reason.code, ticket.kind, ticket.priority) == ("hosting-site-down", "incident", "express")
    assert ticket.service == managed_cms and ticket.response_deadline is not None
    assert "The contact form fails." in ticket.description and "WordPress 6.7.1." in ticket.description
    update.refresh_from_db()
    assert (update.status, update.problem_ticket, update.answered_by, update.answered_at) == (
        CmsUpdate.Status.PROBLEM, ticket, owner, NOW
    )  # fmt: skip
    assert AuditEvent.objects.filter(action="cms_update.problem_reported", actor=owner).exists()
    assert ticket.number in page(owner_client, managed_cms)


@pytest.mark.django_db
def test_a_problem_report_needs_a_description(owner_client, managed_cms, staff_user):
    update = hosting.record_cms_update(service=managed_cms, description="update", by=staff_user)
    response = owner_client.post(reverse("cms_update_problem", args=[update.pk]), {"description": " "})
    assert response.status_code == 200 and 'aria-invalid="true"' in response.content.decode()
    assert not Ticket.objects.exists()
    update.refresh_from_db()
    assert update.status == CmsUpdate.Status.AWAITING_CHECK


@pytest.mark.django_db
def test_a_billing_contact_cannot_answer_a_cms_update(billing_member, managed_cms, staff_user):
    update = hosting.record_cms_update(service=managed_cms, description="update", by=staff_user)
    client = client_for(billing_member)
    assert reverse("cms_update_confirm", args=[update.pk]) not in page(client, managed_cms)
    assert client.post(reverse("cms_update_confirm", args=[update.pk])).status_code == 403
    assert client.post(reverse("cms_update_problem", args=[update.pk]), {"description": "x"}).status_code == 403


@pytest.mark.django_db
def test_another_customer_can_neither_see_nor_answer_an_update(other_client, managed_cms, staff_user):
    update = hosting.record_cms_update(service=managed_cms, description="update", by=staff_user)
    assert other_client.post(reverse("cms_update_confirm", args=[update.pk])).status_code == 404
    assert other_client.post(reverse("cms_update_problem", args=[update.pk]), {"description": "x"}).status_code == 404
    update.refresh_from_db()
    assert update.status == CmsUpdate.Status.AWAITING_CHECK and not Ticket.objects.exists()


# The admin


def _staff_client(staff_user):
    Authenticator.objects.create(user=staff_user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    return client_for(staff_user)


@pytest.mark.django_db
@frozen
def test_staff_record_a_cms_update_in_the_admin_and_the_customer_is_emailed(
    staff_user, owner, managed_cms, django_capture_on_commit_callbacks
):
    client = _staff_client(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:services_cmsupdate_add"), {"service": managed_cms.pk, "description": "PHP 8.3 patch."}
        )
    update = CmsUpdate.objects.get()
    assert response.status_code == 302
    assert (update.service, update.recorded_by, update.description) == (managed_cms, staff_user, "PHP 8.3 patch.")
    assert [m.to for m in mail.outbox] == [["owner@acme.example"]]
    assert client.get(reverse("admin:services_cmsupdate_changelist")).status_code == 200
    assert client.get(reverse("admin:services_cmsupdate_change", args=[update.pk])).status_code == 200


@pytest.mark.django_db
@frozen
def test_staff_record_usage_and_backups_in_the_admin(staff_user, site):
    client = _staff_client(staff_user)
    response = client.post(
        reverse("admin:services_hostingusage_add"),
        {"service": site.pk, "measured_at_0": "2026-11-27", "measured_at_1": "06:00:00", "disk_mb": 700,
         "traffic_mb": 9000},
    )  # fmt: skip
    assert response.status_code == 302
    reading = HostingUsage.objects.get()
    assert (reading.disk_mb, reading.recorded_by) == (700, staff_user)
    response = client.post(
        reverse("admin:services_backup_add"),
        {"service": site.pk, "reference": "daily-1", "taken_at_0": "2026-11-27", "taken_at_1": "03:00:00",
         "size_mb": 850},
    )  # fmt: skip
    assert response.status_code == 302
    assert Backup.objects.get().taken_at == datetime.datetime(2026, 11, 27, 3, 0, tzinfo=BRUSSELS)
    for name in ("hostingusage", "backup"):
        assert client.get(reverse(f"admin:services_{name}_changelist")).status_code == 200


# The end of a hosting contract (art. 3.5)


@pytest.mark.django_db
@frozen
def test_art_3_5_an_ending_hosting_reminds_the_customer_to_move_the_site_before_the_end(owner_client, site):
    Service.objects.filter(pk=site.pk).update(auto_renew=False, current_period_end=datetime.date(2026, 12, 31))
    body = page(owner_client, site)
    assert "This hosting contract ends on Dec. 31, 2026." in body
    assert "your responsibility (art. 3.5 of the particular conditions)" in body
    dashboard = owner_client.get(reverse("dashboard")).content.decode()
    assert "Hosting contracts ending" in dashboard and "www.acme.example</a> — ends on Dec. 31, 2026" in dashboard


@pytest.mark.django_db
@frozen
def test_art_3_5_no_reminder_for_a_hosting_that_renews_or_ends_later(owner_client, customer, site):
    Service.objects.filter(pk=site.pk).update(current_period_end=datetime.date(2026, 12, 31))  # renews
    far = ServiceFactory(customer=customer, auto_renew=False, current_period_end=datetime.date(2027, 6, 1))
    assert "is your responsibility" not in page(owner_client, site)
    assert "is your responsibility" not in page(owner_client, far)
    assert "Hosting contracts ending" not in owner_client.get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
def test_art_3_5_the_reminder_window_is_a_setting(settings, customer, site):
    Service.objects.filter(pk=site.pk).update(auto_renew=False)
    site.refresh_from_db()  # ends 2027-01-01
    settings.HOSTING_END_REMINDER_DAYS = 30
    assert not hosting.is_ending(site, today=datetime.date(2026, 11, 27))
    assert hosting.is_ending(site, today=datetime.date(2026, 12, 5))
    assert list(hosting.ending_hostings(Service.objects.all(), today=datetime.date(2026, 12, 5))) == [site]
    assert not hosting.is_ending(site, today=datetime.date(2027, 1, 2))  # already over


# The ops commands


@pytest.mark.django_db
def test_record_hosting_usage_records_a_reading_shown_on_the_hosting_page(owner_client, site):
    out = StringIO()
    call_command(
        "record_hosting_usage", "--service", site.pk, "--disk-mb", "5120", "--traffic-mb", "1024",
        "--measured-at", "2026-11-27T06:00", stdout=out,
    )  # fmt: skip
    reading = HostingUsage.objects.get()
    assert (reading.disk_mb, reading.traffic_mb) == (5120, 1024)
    assert reading.measured_at == datetime.datetime(2026, 11, 27, 6, 0, tzinfo=BRUSSELS)
    assert "Recorded 5120 MB of disk and 1024 MB of traffic for www.acme.example" in out.getvalue()
    assert "5.0\xa0GB of 10.0\xa0GB (50 %)" in page(owner_client, site)


@pytest.mark.django_db
def test_record_hosting_usage_dry_run_records_nothing_and_refuses_other_services(customer, site):
    out = StringIO()
    call_command("record_hosting_usage", "--service", site.pk, "--disk-mb", "1", "--traffic-mb", "1", "--dry-run",
                 stdout=out)  # fmt: skip
    assert "Dry run" in out.getvalue() and not HostingUsage.objects.exists()
    domain = ServiceFactory(customer=customer, plan=PlanFactory(kind=Kind.DOMAIN))
    with pytest.raises(CommandError, match="not a shared hosting"):
        call_command("record_hosting_usage", "--service", domain.pk, "--disk-mb", "1", "--traffic-mb", "1")
    with pytest.raises(CommandError, match="No service"):
        call_command("record_hosting_usage", "--service", "999999", "--disk-mb", "1", "--traffic-mb", "1")


@pytest.mark.django_db
@frozen
def test_record_backup_lists_the_backup_and_is_safe_to_run_twice(owner_client, site):
    args = ["record_backup", "--service", site.pk, "--reference", "daily-2026-11-27",
            "--taken-at", "2026-11-27T03:00+01:00", "--size-mb", "850"]  # fmt: skip
    first, second = StringIO(), StringIO()
    call_command(*args, stdout=first)
    call_command(*args, stdout=second)
    assert "Recorded backup daily-2026-11-27" in first.getvalue()
    assert "Already recorded" in second.getvalue()
    assert Backup.objects.get().size_mb == 850
    assert "<td>daily-2026-11-27</td>" in page(owner_client, site)
    with pytest.raises(CommandError, match="another date or size"):
        call_command(*args[:-1], "900")
    with pytest.raises(CommandError, match="ISO date-time"):
        call_command("record_backup", "--service", site.pk, "--reference", "x", "--taken-at", "yesterday")


@pytest.mark.django_db
def test_record_backup_dry_run_records_nothing(site):
    out = StringIO()
    call_command("record_backup", "--service", site.pk, "--reference", "r", "--taken-at", "2026-11-27T03:00",
                 "--dry-run", stdout=out)  # fmt: skip
    assert "Dry run" in out.getvalue() and not Backup.objects.exists()


@pytest.mark.parametrize("command", ["record_hosting_usage", "record_backup"])
def test_the_commands_help_shows_an_example(command, capsys):
    with pytest.raises(SystemExit):
        call_command(command, "--help")
    assert f"Example: python manage.py {command} --service" in capsys.readouterr().out


# Other kinds, scoping and query counts


@pytest.mark.django_db
def test_a_domain_page_links_to_its_dns_editor_when_we_host_its_zone(owner_client, customer):
    domain = ServiceFactory(customer=customer, name="acme.be", plan=PlanFactory(kind=Kind.DOMAIN))
    assert "Edit the DNS records" not in page(owner_client, domain)
    DnsZone.objects.create(service=domain, name="acme.be", serial=2026112701)
    try:
        editor = reverse("dns_zone", args=[domain.pk])
    except NoReverseMatch:  # the DNS editor is not there yet: no link rather than an error
        assert "Edit the DNS records" not in page(owner_client, domain)
    else:
        assert editor in page(owner_client, domain)


@pytest.mark.django_db
@frozen
def test_another_customer_gets_404_for_the_hosting_pages(other_client, site):
    backup(site, "daily-1", days_ago=1)
    assert other_client.get(site.get_absolute_url()).status_code == 404
    assert other_client.get(restore_url(site, "daily-1")).status_code == 404
    assert other_client.post(restore_url(site), {"backup": "daily-1", "priority": "standard"}).status_code == 404
    assert not Ticket.objects.exists()


@pytest.mark.django_db
@frozen
def test_the_hosting_page_query_count_does_not_grow_with_backups_usage_and_updates(
    owner_client, customer, site, managed_cms, staff_user, django_assert_max_num_queries
):
    def add_rows(count: int, start: int) -> None:
        for i in range(start, start + count):
            backup(site, f"b-{i}", days_ago=(i % 13) + 0.1)
            hosting.record_usage(service=site, disk_mb=i, traffic_mb=i, measured_at=NOW - datetime.timedelta(hours=i))
            ServiceEvent.objects.create(
                service=site, field=ServiceEvent.Field.NOTE, new_value=f"n{i}", actor=staff_user
            )
            hosting.record_cms_update(service=managed_cms, description=f"u{i}", by=staff_user)
        ServiceFactory(
            customer=customer, parent=site, plan=PlanFactory(kind=Kind.CACHING, requires_kind="shared_hosting")
        )

    add_rows(2, 0)
    owner_client.get(reverse("dashboard"))  # the first request of a session records it
    queries = {}
    for service in (site, managed_cms):
        with django_assert_max_num_queries(25) as small:
            page(owner_client, service)
        queries[service.pk] = len(small.captured_queries)
    add_rows(40, 2)
    for service in (site, managed_cms):
        with django_assert_max_num_queries(queries[service.pk]):
            body = page(owner_client, service)
    assert "u41" in body


@pytest.mark.django_db
@frozen
def test_the_dashboard_query_count_does_not_grow_with_ending_hostings(
    owner_client, customer, django_assert_max_num_queries
):
    end = datetime.date(2026, 12, 20)
    ServiceFactory.create_batch(2, customer=customer, auto_renew=False, current_period_end=end)
    owner_client.get(reverse("dashboard"))
    with django_assert_max_num_queries(15) as small:
        owner_client.get(reverse("dashboard"))
    ServiceFactory.create_batch(20, customer=customer, auto_renew=False, current_period_end=end)
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = owner_client.get(reverse("dashboard")).content.decode()
    assert body.count("— ends on Dec. 20, 2026") == 5


@pytest.mark.django_db
def test_a_technical_member_added_later_also_receives_cms_update_emails(
    customer, managed_cms, staff_user, django_capture_on_commit_callbacks
):
    MembershipFactory(customer=customer, role=Role.ADMIN, user__email="admin@acme.example")
    MembershipFactory(customer=customer, role=Role.TECHNICAL, user__email="gone@acme.example", user__is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        hosting.record_cms_update(service=managed_cms, description="update", by=staff_user)
    assert [m.to for m in mail.outbox] == [["admin@acme.example"]]
