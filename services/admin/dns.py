"""DNS zones in the admin: staff change a customer's records for a ticket (art. 4, annex 1).

A record is added, changed or deleted by staff only for a ticket of the zone's customer whose
reason is "Mise à jour des enregistrements de noms de domaine" (priced per intervention): the
change goes through ``services.dns`` (validation, serial, history naming the ticket) and the time
spent through ``support.charges.charge_intervention`` (the rate once per ticket). Zones and their
history are read-only here: zones are created when a domain request completes.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal.admin_site import CustomerFilter, ReadOnlyAdminMixin, linked_customer
from services import dns
from services.models import DnsRecord, DnsZone, ZoneChange
from support import charges
from support.models import OPEN_STATUSES, Ticket

RECORDS_UPDATE = "domains-records-update"


class StaffRecordForm(forms.ModelForm):
    ticket = forms.ModelChoiceField(
        label=_("for the ticket"),
        queryset=Ticket.objects.none(),
        help_text=_(
            "An open ticket of the zone's customer whose reason is “Update of domain name records” (annex 1, "
            "charged once per ticket). Change the ticket's reason first if needed."
        ),
    )
    minutes = forms.IntegerField(label=_("minutes spent"), min_value=1, initial=15)
    note = forms.CharField(label=_("note on the time entry"), required=False, max_length=200)
    delete = forms.BooleanField(label=_("delete this record"), required=False)
    expected_serial = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = DnsRecord
        fields = ["zone", "name", "type", "ttl", "value"]
        widgets = {"value": forms.TextInput(attrs={"size": 80})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        tickets = Ticket.objects.filter(status__in=OPEN_STATUSES, reason__code=RECORDS_UPDATE)
        tickets = tickets.select_related("customer")
        if self.instance.pk:
            tickets = tickets.filter(customer=self.instance.zone.service.customer_id)
            self.fields["expected_serial"].initial = self.instance.zone.serial
        else:
            del self.fields["delete"]
        self.fields["ticket"].queryset = tickets.order_by("-logged_at")
        self.fields["ticket"].label_from_instance = lambda t: f"{t.number} · {t.customer} · {t.subject}"
        if "value" in self.fields:
            self.fields["value"].required = False  # services.dns gives the type's own hint

    def zone(self) -> DnsZone | None:
        return self.instance.zone if self.instance.pk else self.cleaned_data.get("zone")

    def clean(self):
        data = super().clean()
        zone, ticket = self.zone(), data.get("ticket")
        if zone is None:
            return data
        if ticket is not None and ticket.customer_id != zone.service.customer_id:
            self.add_error("ticket", gettext("Choose a ticket of the zone's customer."))
        expected = data.get("expected_serial")
        if expected is not None and expected != zone.serial:
            self.add_error(None, gettext("The zone changed since this page was opened: reload it and try again."))
        if data.get("delete"):
            return data
        try:
            fields = dns.validate_record(
                zone=zone, name=data.get("name", ""), type=data.get("type", ""), ttl=data.get("ttl"),
                value=data.get("value", ""), replacing=self.instance if self.instance.pk else None,
            )  # fmt: skip
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            data.update(fields)
        return data


@admin.register(DnsRecord)
class DnsRecordAdmin(admin.ModelAdmin):
    form = StaffRecordForm
    customer_link = linked_customer("zone__service__customer")
    list_display = ["name", "type", "ttl", "value", "zone", "customer_link"]
    list_filter = [CustomerFilter, "type"]
    list_select_related = ["zone__service__customer"]
    search_fields = ["zone__name", "name", "value"]
    autocomplete_fields = ["zone"]
    fieldsets = [
        (None, {"fields": ["zone", "name", "type", "ttl", "value"]}),
        (_("For the ticket (annex 1)"), {"fields": ["ticket", "minutes", "note", "expected_serial"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.fieldsets
        return [*self.fieldsets, (_("Delete"), {"fields": ["delete"]})]

    def get_readonly_fields(self, request, obj=None):
        return ["zone"] if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deleting is a change for a ticket too: the "delete this record" box

    def save_model(self, request, obj: DnsRecord, form: StaffRecordForm, change: bool) -> None:
        data = form.cleaned_data
        zone = form.zone()
        serial = data.get("expected_serial") or zone.serial
        fields = {key: data[key] for key in ("name", "type", "ttl", "value") if key in data}
        if change and data.get("delete"):
            dns.delete_record(zone=zone, record=obj, expected_serial=serial, by=request.user, ticket=data["ticket"])
            obj._deleted_for_ticket = True
        elif change:
            dns.update_record(
                zone=zone, record=obj, **fields, expected_serial=serial, by=request.user, ticket=data["ticket"]
            )
        else:
            record = dns.add_record(zone=zone, **fields, expected_serial=serial, by=request.user, ticket=data["ticket"])
            obj.pk, obj.name, obj.ttl, obj.value = record.pk, record.name, record.ttl, record.value
            obj._state.adding = False
        note = data.get("note") or gettext("DNS record update in %(zone)s") % {"zone": zone.name}
        charges.charge_intervention(ticket=data["ticket"], by=request.user, note=note, minutes=data["minutes"])

    def response_change(self, request, obj):
        if getattr(obj, "_deleted_for_ticket", False):
            self.message_user(request, gettext("The record was deleted."), messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:services_dnsrecord_changelist"))
        return super().response_change(request, obj)


@admin.register(DnsZone)
class DnsZoneAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    customer_link = linked_customer("service__customer")
    list_display = ["name", "service", "customer_link", "serial", "updated_at"]
    list_filter = [CustomerFilter]
    list_select_related = ["service__customer", "service__plan"]
    search_fields = ["name", "service__customer__name"]
    fields = ["name", "service", "customer_link", "serial", "default_ttl", "updated_at", "links", "zone_file"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("service__customer", "service__plan")

    @admin.display(description=_("records and history"))
    def links(self, zone: DnsZone) -> str:
        records = reverse("admin:services_dnsrecord_changelist") + f"?zone__id__exact={zone.pk}"
        add = reverse("admin:services_dnsrecord_add") + f"?zone={zone.pk}"
        history = reverse("admin:services_zonechange_changelist") + f"?zone__id__exact={zone.pk}"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a>',
            records, gettext("Records"), add, gettext("Add a record for a ticket"), history, gettext("History"),
        )  # fmt: skip

    @admin.display(description=_("zone file"))
    def zone_file(self, zone: DnsZone) -> str:
        return format_html("<pre>{}</pre>", dns.zone_text(zone))


@admin.register(ZoneChange)
class ZoneChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "zone", "action", "old_value", "new_value", "actor", "ticket", "serial"]
    list_filter = [CustomerFilter, "action", ("ticket", admin.EmptyFieldListFilter)]
    list_select_related = ["zone", "actor", "ticket"]
    search_fields = ["zone__name", "ticket__number", "old_value", "new_value"]
    date_hierarchy = "created_at"
