"""The DNS editor (art. 4.3.1): the zone's records edited in place with htmx, and the same pages
as plain forms and links without JavaScript.

Every form carries the zone serial it was rendered with; ``services.dns`` refuses a save made
against an older serial. After a save through htmx, the response also updates (out of band) the
serial of the page's other forms that were rendered with the serial the save was based on: forms
rendered earlier stay stale and are refused, as they should.
"""

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from portal.forms import add_errors
from portal.scoping import customer_required, get_scoped_or_404
from services import dns
from services.models import DnsRecord, DnsZone, Kind, Service

PAGE_SIZE = 50  # a 500-record zone is ten pages, with the filter to find one; a page renders in milliseconds
HISTORY_PAGE_SIZE = 50


class RecordForm(forms.Form):
    """The fields as typed; ``services.dns`` normalises and validates them (messages per field)."""

    name = forms.CharField(label=gettext_lazy("Name"), required=False, max_length=300)
    type = forms.ChoiceField(label=gettext_lazy("Type"), choices=DnsRecord.Type.choices)
    ttl = forms.CharField(label=gettext_lazy("TTL (seconds)"), required=False, max_length=20)
    value = forms.CharField(label=gettext_lazy("Value"), required=False, max_length=dns.MAX_VALUE_LENGTH + 100)
    serial = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)

    def record_fields(self) -> dict:
        data = self.cleaned_data
        return {"name": data["name"], "type": data["type"], "ttl": data["ttl"], "value": data["value"]}


class FilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Name or value contains"), required=False, max_length=200)
    type = forms.ChoiceField(
        label=gettext_lazy("Type"), required=False, choices=[("", gettext_lazy("All types")), *DnsRecord.Type.choices]
    )


def _zone_for(request: HttpRequest, pk: int) -> tuple[Service, DnsZone | None]:
    """The customer's domain service and its zone (None while the domain has none)."""
    service = get_scoped_or_404(request, Service.objects.select_related("plan", "zone"), pk=pk, plan__kind=Kind.DOMAIN)
    try:
        return service, service.zone
    except DnsZone.DoesNotExist:
        return service, None


def _zone_or_404(request: HttpRequest, pk: int) -> tuple[Service, DnsZone]:
    service, zone = _zone_for(request, pk)
    if zone is None:
        raise Http404
    return service, zone


def _record(zone: DnsZone, record_pk: int) -> DnsRecord:
    return get_object_or_404(DnsRecord, zone=zone, pk=record_pk)


def _is_stale(form: forms.Form) -> bool:
    return any(e.code == "stale" for e in form.errors.as_data().get("__all__", []))


def _context(service: Service, zone: DnsZone, request: HttpRequest, **extra) -> dict:
    can_edit = bool(request.membership) and request.membership.can("manage_dns")
    return {"service": service, "zone": zone, "can_edit": can_edit, "nameservers": settings.DNS_NAMESERVERS, **extra}


def _changed(
    request: HttpRequest, service: Service, zone: DnsZone, *, based_on, status: str, main: str = ""
) -> HttpResponse:
    """htmx answer to a successful change: the swapped content, then the new serial for the page's
    forms rendered with ``based_on`` and the status line, out of band."""
    oob = render_to_string(
        "services/dns_zone.html#changed-oob",
        {"zone": zone, "service": service, "based_on": int(based_on), "status": status},
        request=request,
    )
    return HttpResponse(main + oob)


def _record_changed(
    request: HttpRequest, service: Service, zone: DnsZone, record, *, based_on, status: str
) -> HttpResponse:
    """After an added or saved record: its row and the new serial for htmx, else back to the zone page."""
    if request.htmx:
        row = render_to_string(
            "services/dns_zone.html#record-row", _context(service, zone, request, record=record), request=request
        )
        return _changed(request, service, zone, based_on=based_on, status=status, main=row)
    messages.success(request, status)
    return redirect(reverse("dns_zone", args=[service.pk]) + f"#record-{record.pk}")


@customer_required("view")
def zone_page(request: HttpRequest, pk: int) -> HttpResponse:
    service, zone = _zone_for(request, pk)
    if zone is None:
        return render(request, "services/dns_zone.html", _context(service, None, request))
    if request.htmx and request.GET.get("row", "").isdecimal():  # "cancel" of an edit in place
        record = _record(zone, int(request.GET["row"]))
        return render(request, "services/dns_zone.html#record-row", _context(service, zone, request, record=record))
    return _zone_page(request, service, zone, RecordForm(initial={"ttl": zone.default_ttl, "type": "A"}))


def _zone_page(request: HttpRequest, service: Service, zone: DnsZone, form: RecordForm, **extra) -> HttpResponse:
    filters = FilterForm(request.GET or None)
    records = zone.records.all()
    query = {}
    if filters.is_valid():
        if filters.cleaned_data["q"]:
            text = filters.cleaned_data["q"].strip().lower()
            records = records.filter(Q(name__icontains=text) | Q(value__icontains=text))
            query["q"] = filters.cleaned_data["q"]
        if filters.cleaned_data["type"]:
            records = records.filter(type=filters.cleaned_data["type"])
            query["type"] = filters.cleaned_data["type"]
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    context = _context(service, zone, request, page=page, form=form, filters=filters, query=urlencode(query), **extra)
    context.setdefault("fid", "add")
    return render(request, "services/dns_zone.html", context)


@require_POST
@customer_required("manage_dns")
def record_add(request: HttpRequest, pk: int) -> HttpResponse:
    service, zone = _zone_or_404(request, pk)
    form = RecordForm(request.POST, auto_id="add-%s")
    based_on = request.POST.get("serial", "")
    if form.is_valid():
        try:
            record = dns.add_record(zone=zone, **form.record_fields(), expected_serial=based_on, by=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            status = _("Record added: %(record)s") % {"record": record}
            return _record_changed(request, service, zone, record, based_on=based_on, status=status)
    if request.htmx:
        context = _context(service, zone, request, form=form, fid="add", stale=_is_stale(form), add_serial=based_on)
        response = render(request, "services/dns_zone.html#add-form", context)
        return reswap(retarget(response, "#record-add"), "outerHTML")
    return _zone_page(request, service, zone, form, stale=_is_stale(form), add_serial=based_on)


@customer_required("manage_dns")
def record_edit(request: HttpRequest, pk: int, record_pk: int) -> HttpResponse:
    service, zone = _zone_or_404(request, pk)
    record = _record(zone, record_pk)
    fid = f"r{record.pk}"
    if request.method == "POST":
        form = RecordForm(request.POST, auto_id=f"{fid}-%s")
        if form.is_valid():
            based_on = form.cleaned_data["serial"]
            try:
                record = dns.update_record(
                    zone=zone, record=record, **form.record_fields(), expected_serial=based_on, by=request.user
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                status = _("Record saved: %(record)s") % {"record": record}
                return _record_changed(request, service, zone, record, based_on=based_on, status=status)
    else:
        form = RecordForm(
            initial={"name": record.name, "type": record.type, "ttl": record.ttl, "value": record.value},
            auto_id=f"{fid}-%s",
        )
    serial = request.POST.get("serial", zone.serial) if request.method == "POST" else zone.serial
    context = _context(service, zone, request, record=record, form=form, fid=fid, serial=serial, stale=_is_stale(form))
    if request.htmx:
        return render(request, "services/dns_zone.html#record-edit-row", context)
    return render(request, "services/dns_record_edit.html", context)


@customer_required("manage_dns")
def record_delete(request: HttpRequest, pk: int, record_pk: int) -> HttpResponse:
    """POST with ``confirmed`` deletes; otherwise (a form posted without JavaScript, or GET) the
    confirmation page. With htmx the browser asked already (hx-confirm)."""
    service, zone = _zone_or_404(request, pk)
    record = _record(zone, record_pk)
    based_on = request.POST.get("serial", "") if request.method == "POST" else str(zone.serial)
    if request.method == "POST" and request.POST.get("confirmed"):
        text = str(record)
        try:
            dns.delete_record(zone=zone, record=record, expected_serial=based_on, by=request.user)
        except ValidationError as error:
            if request.htmx:
                row = render_to_string(
                    "services/dns_zone.html#record-row",
                    _context(service, zone, request, record=record),
                    request=request,
                )
                status = render_to_string(
                    "services/dns_zone.html#error-oob", {"message": " ".join(error.messages)}, request=request
                )
                return HttpResponse(row + status)
            messages.error(request, " ".join(error.messages))
            return redirect("dns_zone", service.pk)
        status = _("Record deleted: %(record)s") % {"record": text}
        if request.htmx:
            return _changed(request, service, zone, based_on=based_on, status=status)
        messages.success(request, status)
        return redirect("dns_zone", service.pk)
    context = _context(service, zone, request, record=record, serial=based_on)
    return render(request, "services/dns_record_delete.html", context)


@customer_required("view")
def zone_export(request: HttpRequest, pk: int) -> HttpResponse:
    _service, zone = _zone_or_404(request, pk)
    response = HttpResponse(dns.zone_text(zone), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{zone.name}.zone"'
    return response


@customer_required("view")
def zone_history(request: HttpRequest, pk: int) -> HttpResponse:
    service, zone = _zone_or_404(request, pk)
    changes = zone.changes.select_related("actor", "ticket")
    page = Paginator(changes, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "services/dns_zone_history.html", {"service": service, "zone": zone, "page": page})
