"""The DNS editor pages (art. 4.3.1): rows edited in place with htmx, the same without JavaScript,
permissions, the serial check, export and history."""

import re

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import ledger
from services import dns
from services.models import DnsRecord, Kind
from tests.conftest import client_for
from tests.factories import PlanFactory, ServiceFactory

HTMX = {"HX-Request": "true"}


@pytest.fixture
def domain(customer):
    return ServiceFactory(customer=customer, name="acme.be", plan=PlanFactory(kind=Kind.DOMAIN))


@pytest.fixture
def zone(domain):
    return dns.create_zone(service=domain, name="acme.be")


@pytest.fixture
def www(zone):
    return dns.add_record(
        zone=zone, name="www", type="A", ttl=3600, value="192.0.2.10", expected_serial=zone.serial, by=None
    )


def url(name: str, zone, record=None) -> str:
    args = [zone.service_id] if record is None else [zone.service_id, record.pk]
    return reverse(name, args=args)


def record_data(zone, **fields) -> dict:
    zone.refresh_from_db()
    return {"name": "www", "type": "A", "ttl": "3600", "value": "192.0.2.10", "serial": zone.serial, **fields}


# Viewing


@pytest.mark.django_db
def test_the_zone_page_lists_the_records_the_name_servers_and_the_serial(owner_client, zone, www, settings):
    settings.DNS_NAMESERVERS = ["ns1.provider.example", "ns2.provider.example"]
    body = owner_client.get(url("dns_zone", zone)).content.decode()
    assert "ns1.provider.example, ns2.provider.example" in body
    assert f'<span id="zone-serial-text">{zone.serial}</span>' in body
    assert f'id="record-{www.pk}"' in body and "192.0.2.10" in body
    assert url("dns_zone_export", zone) in body and url("dns_zone_history", zone) in body
    assert url("dns_record_edit", zone, www) in body  # the owner may edit


@pytest.mark.django_db
def test_a_billing_contact_sees_the_records_but_cannot_change_them(billing_member, zone, www):
    client = client_for(billing_member)
    body = client.get(url("dns_zone", zone)).content.decode()
    assert "192.0.2.10" in body
    assert "Add a record" not in body and url("dns_record_edit", zone, www) not in body
    assert client.post(url("dns_record_add", zone), record_data(zone, name="ftp")).status_code == 403
    assert client.get(url("dns_record_edit", zone, www)).status_code == 403
    assert client.post(url("dns_record_edit", zone, www), record_data(zone, value="192.0.2.66")).status_code == 403
    assert (
        client.post(url("dns_record_delete", zone, www), {"serial": zone.serial, "confirmed": "1"}).status_code == 403
    )
    assert client.get(url("dns_zone_export", zone)).status_code == 200
    assert list(DnsRecord.objects.values_list("name", "value")) == [("www", "192.0.2.10")]


@pytest.mark.django_db
def test_only_domain_services_have_a_dns_page(owner_client, customer):
    hosting = ServiceFactory(customer=customer, plan=PlanFactory(kind=Kind.SHARED_HOSTING))
    assert owner_client.get(reverse("dns_zone", args=[hosting.pk])).status_code == 404


@pytest.mark.django_db
def test_a_domain_without_zone_yet_says_so(owner_client, domain):
    response = owner_client.get(reverse("dns_zone", args=[domain.pk]))
    assert "has no DNS zone on our name servers yet" in response.content.decode()
    assert owner_client.get(reverse("dns_zone_export", args=[domain.pk])).status_code == 404


@pytest.mark.django_db
def test_the_records_can_be_filtered_by_text_and_type(owner_client, zone, www):
    dns.add_record(zone=zone, name="@", type="MX", ttl=3600, value="10 mail", expected_serial=zone.serial, by=None)
    body = owner_client.get(url("dns_zone", zone), {"type": "MX"}).content.decode()
    assert "10 mail.acme.be." in body and "192.0.2.10" not in body
    body = owner_client.get(url("dns_zone", zone), {"q": "192.0.2"}).content.decode()
    assert "192.0.2.10" in body and "10 mail.acme.be." not in body
    assert "No record matches." in owner_client.get(url("dns_zone", zone), {"q": "nothing"}).content.decode()


@pytest.mark.django_db
def test_a_zone_of_5000_records_renders_with_the_same_queries_as_one_of_5(
    owner_client, zone, django_assert_max_num_queries, django_assert_num_queries
):
    DnsRecord.objects.bulk_create(
        DnsRecord(zone=zone, name=f"host{i}", type="A", ttl=3600, value=f"10.0.0.{i}") for i in range(5)
    )
    owner_client.get(url("dns_zone", zone))  # the session's first request records it
    with django_assert_max_num_queries(15) as small:
        owner_client.get(url("dns_zone", zone))
    DnsRecord.objects.bulk_create(
        DnsRecord(zone=zone, name=f"many{i}", type="A", ttl=3600, value=f"10.1.{i // 256}.{i % 256}")
        for i in range(4995)
    )
    with django_assert_num_queries(len(small.captured_queries)):
        response = owner_client.get(url("dns_zone", zone))
    body = response.content.decode()
    assert "5000 records" in body and "page 1 of 100" in body
    assert body.count('<tr id="record-') == 50  # views.dns.PAGE_SIZE


# Adding


@pytest.mark.django_db
def test_a_technical_contact_adds_a_record_without_javascript(technical_member, zone):
    client = client_for(technical_member)
    response = client.post(url("dns_record_add", zone), record_data(zone, name="ftp", value="192.0.2.21"), follow=True)
    record = DnsRecord.objects.get(name="ftp")
    assert response.redirect_chain[-1][0] == url("dns_zone", zone) + f"#record-{record.pk}"
    assert "Record added: ftp 3600 A 192.0.2.21" in response.content.decode()
    assert zone.changes.get().actor == technical_member


@pytest.mark.django_db
def test_an_htmx_add_answers_the_new_row_and_the_new_serial_out_of_band(owner_client, zone):
    before = zone.serial
    response = owner_client.post(url("dns_record_add", zone), record_data(zone, name="ftp"), headers=HTMX)
    zone.refresh_from_db()
    body = response.content.decode()
    assert body.lstrip().startswith('<tr id="record-')
    oob = f"outerHTML:.zone-serial[value='{before}'], #dns-status .serial-sink"
    assert f'value="{zone.serial}" class="zone-serial" hx-swap-oob="{oob}"' in body
    assert f'<span id="zone-serial-text" hx-swap-oob="true">{zone.serial}</span>' in body
    assert "Record added: ftp 3600 A 192.0.2.10" in body


@pytest.mark.django_db
def test_an_invalid_add_shows_the_errors_per_field_in_the_form(owner_client, zone):
    data = record_data(zone, name="a.*", ttl="5", value="300.1.1.1")
    response = owner_client.post(url("dns_record_add", zone), data, headers=HTMX)
    body = response.content.decode()
    assert response.headers["HX-Retarget"] == "#record-add" and response.headers["HX-Reswap"] == "outerHTML"
    assert 'id="add-name-error"' in body and "A wildcard * can only be the first label" in body
    assert 'id="add-ttl-error"' in body and "Enter a TTL in seconds" in body
    assert 'id="add-value-error"' in body and "Enter an IPv4 address" in body
    assert 'value="a.*"' in body  # what was typed stays
    # Without JavaScript: the whole page, with the same messages.
    body = owner_client.post(url("dns_record_add", zone), data).content.decode()
    assert "<html" in body and "A wildcard * can only be the first label" in body
    assert not DnsRecord.objects.exists()


# Editing in place


@pytest.mark.django_db
def test_edit_swaps_the_row_to_a_form_with_the_current_serial(owner_client, zone, www):
    response = owner_client.get(url("dns_record_edit", zone, www), headers=HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="record-{www.pk}" class="editing">')
    assert f'name="serial" value="{zone.serial}"' in body and 'value="192.0.2.10"' in body
    assert f'id="r{www.pk}-value"' in body
    assert f"?row={www.pk}" in body  # cancel brings the row back
    cancel = owner_client.get(url("dns_zone", zone), {"row": www.pk}, headers=HTMX).content.decode()
    assert cancel.lstrip().startswith(f'<tr id="record-{www.pk}">') and '<form method="post" action' in cancel


@pytest.mark.django_db
def test_a_row_that_is_not_a_number_shows_the_zone_page(owner_client, zone, www):
    # Found by tests/security/test_fuzz_forms.py: "²".isdigit() is true, int("²") raises.
    assert owner_client.get(url("dns_zone", zone), {"row": "²"}, headers=HTMX).status_code == 200


@pytest.mark.django_db
def test_edit_without_javascript_is_a_page_of_its_own(owner_client, zone, www):
    body = owner_client.get(url("dns_record_edit", zone, www)).content.decode()
    assert "<html" in body and "<h1>Edit a record</h1>" in body
    response = owner_client.post(url("dns_record_edit", zone, www), record_data(zone, value="192.0.2.11"), follow=True)
    assert "Record saved: www 3600 A 192.0.2.11" in response.content.decode()


@pytest.mark.django_db
def test_saving_an_edit_swaps_the_row_back_and_errors_stay_in_the_row(owner_client, zone, www):
    response = owner_client.post(url("dns_record_edit", zone, www), record_data(zone, ttl="300"), headers=HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="record-{www.pk}">') and ">300<" in body
    www.refresh_from_db()
    assert www.ttl == 300
    response = owner_client.post(
        url("dns_record_edit", zone, www), record_data(zone, type="CNAME", name="@", value="www"), headers=HTMX
    )
    body = response.content.decode()
    assert body.lstrip().startswith(f'<tr id="record-{www.pk}" class="editing">')
    assert f'id="r{www.pk}-name-error"' in body and "A CNAME cannot be at the zone apex" in body


@pytest.mark.django_db
def test_a_save_against_an_older_serial_is_refused_with_a_reload_link(owner_client, technical_member, zone, www):
    data = record_data(zone, value="192.0.2.99")
    dns.add_record(  # a colleague saves meanwhile
        zone=zone, name="ftp", type="A", ttl=3600, value="192.0.2.21", expected_serial=zone.serial, by=technical_member
    )
    body = owner_client.post(url("dns_record_edit", zone, www), data, headers=HTMX).content.decode()
    assert "Someone changed this zone since you opened the page" in body and "Reload the records" in body
    assert f'name="serial" value="{data["serial"]}"' in body  # the form stays stale until reloaded
    www.refresh_from_db()
    assert www.value == "192.0.2.10"
    body = owner_client.post(url("dns_record_add", zone), {**data, "name": "new"}).content.decode()
    assert "Someone changed this zone since you opened the page" in body
    response = owner_client.post(
        url("dns_record_delete", zone, www), {"serial": data["serial"], "confirmed": "1"}, follow=True
    )
    assert "Someone changed this zone since you opened the page" in response.content.decode()
    assert DnsRecord.objects.filter(pk=www.pk).exists()


# Deleting


@pytest.mark.django_db
def test_delete_without_javascript_asks_for_confirmation_first(owner_client, zone, www):
    response = owner_client.post(url("dns_record_delete", zone, www), {"serial": zone.serial})
    body = response.content.decode()
    assert "Delete this record?" in body and 'name="confirmed" value="1"' in body
    assert DnsRecord.objects.filter(pk=www.pk).exists()
    response = owner_client.post(
        url("dns_record_delete", zone, www), {"serial": zone.serial, "confirmed": "1"}, follow=True
    )
    assert "Record deleted: www 3600 A 192.0.2.10" in response.content.decode()
    assert not DnsRecord.objects.exists()


@pytest.mark.django_db
def test_an_htmx_delete_removes_the_row_and_updates_the_serial(owner_client, zone, www):
    body = owner_client.get(url("dns_zone", zone)).content.decode()
    assert 'hx-confirm="Delete the record www 3600 A 192.0.2.10?"' in body and "hx-vals" in body
    response = owner_client.post(
        url("dns_record_delete", zone, www), {"serial": zone.serial, "confirmed": "1"}, headers=HTMX
    )
    body = response.content.decode()
    zone.refresh_from_db()
    assert body.lstrip().startswith("<input")  # nothing replaces the row: it goes away
    assert f'<span id="zone-serial-text" hx-swap-oob="true">{zone.serial}</span>' in body
    assert not DnsRecord.objects.exists()


# Export and history


@pytest.mark.django_db
def test_the_export_is_the_zone_file_as_a_text_download(billing_member, zone, www):
    response = client_for(billing_member).get(url("dns_zone_export", zone))
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="acme.be.zone"'
    assert response.content.decode() == dns.zone_text(zone)
    assert "www\t3600\tIN\tA\t192.0.2.10" in response.content.decode()


@pytest.mark.django_db
def test_the_history_shows_who_changed_what_with_old_and_new_values(owner_client, owner, staff_user, zone, www):
    owner_client.post(url("dns_record_edit", zone, www), record_data(zone, value="192.0.2.11"))
    zone.refresh_from_db()
    dns.add_record(
        zone=zone, name="mail", type="A", ttl=3600, value="192.0.2.25", expected_serial=zone.serial, by=staff_user
    )
    body = owner_client.get(url("dns_zone_history", zone)).content.decode()
    body = body[body.index("<tbody>") :]
    assert "www 3600 A 192.0.2.10" in body and "www 3600 A 192.0.2.11" in body
    assert owner.get_full_name() in body
    assert "Support team" in body and staff_user.email not in body
    assert body.index("mail 3600 A 192.0.2.25") < body.index("www 3600 A 192.0.2.11")  # newest first


@pytest.mark.django_db
def test_art_4_3_1_the_customers_own_edits_in_the_editor_are_free(owner_client, customer, zone, www):
    ledger.grant(customer, 10, reason="Pack")
    changes = zone.changes.count()
    owner_client.post(url("dns_record_add", zone), record_data(zone, name="ftp"))
    owner_client.post(url("dns_record_edit", zone, www), record_data(zone, value="192.0.2.11"))
    owner_client.post(url("dns_record_delete", zone, www), {"serial": record_data(zone)["serial"], "confirmed": "1"})
    assert zone.changes.count() == changes + 3
    assert ledger.balance(customer) == 10


# Hypothesis: no POST makes the editor answer 500

TEXT = st.text(max_size=80)
POSTS = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(TEXT, st.sampled_from(["@", "www", "*.x", "a.*", "_sip._tcp", "café", "www.acme.be."])),
        "type": st.one_of(st.sampled_from(DnsRecord.Type.values), TEXT),
        "ttl": st.one_of(TEXT, st.integers(min_value=-10, max_value=10**12).map(str)),
        "value": st.one_of(
            TEXT, st.sampled_from(["192.0.2.1", "10 mail", '0 issue "ca.example"', '"x" "y"', "1 1 1 t.", "\\", "("])
        ),
        "serial": st.one_of(TEXT, st.just("CURRENT")),
        "confirmed": st.sampled_from(["", "1"]),
        "q": TEXT,
    },
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=POSTS, view=st.sampled_from(["dns_record_add", "dns_record_edit", "dns_record_delete"]), htmx=st.booleans())
def test_no_post_makes_the_editor_answer_500(owner_client, zone, www, data, view, htmx):
    zone.refresh_from_db()
    if data.get("serial") == "CURRENT":
        data = {**data, "serial": str(zone.serial)}
    record = zone.records.order_by("pk").first()
    target = url("dns_record_add", zone) if view == "dns_record_add" or record is None else url(view, zone, record)
    response = owner_client.post(target, data, headers=HTMX if htmx else {})
    assert response.status_code in (200, 302), response.status_code
    assert not re.search(r"Traceback|Server Error", response.content.decode())
