"""Shared hosting pages: the hosting section of the service page, restoring a backup (art. 3.1.5)
and answering a managed-CMS update (art. 3.2.2)."""

import datetime

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from billing import ledger
from portal.forms import add_errors
from portal.scoping import customer_required, get_scoped_or_404
from services import hosting
from services.hosting_platform import get_platform
from services.models import CmsUpdate, Kind, Service
from support.models import Priority

CMS_HISTORY = 10  # answered updates shown under the ones awaiting a check


class RestoreForm(forms.Form):
    backup = forms.CharField(max_length=100, widget=forms.HiddenInput)
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority"), choices=Priority.choices, initial=Priority.STANDARD, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=gettext_lazy("Anything we should know (optional)"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip


class CmsProblemForm(forms.Form):
    description = forms.CharField(
        label=gettext_lazy("What does not work?"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority"), choices=Priority.choices, initial=Priority.STANDARD, widget=forms.RadioSelect
    )


# The hosting sections of the service page (services.views.services.service_detail)


def detail_context(service: Service, *, now: datetime.datetime) -> dict:
    """What the service page shows for a shared hosting or a managed CMS; nothing for other kinds."""
    kind = service.plan.kind
    if kind == Kind.SHARED_HOSTING:
        usage = get_platform().usage(service)
        return {
            "usage": usage,
            "gauges": hosting.usage_gauges(service, usage),
            "backups": hosting.recent_backups(service, now=now),
            "retention_days": settings.BACKUP_RETENTION_DAYS,
            "ending": hosting.is_ending(service, today=timezone.localdate(now)),
        }
    if kind == Kind.MANAGED_CMS:
        return _cms_context(service)
    return {}


def _cms_context(service: Service, **extra) -> dict:
    updates = service.cms_updates.select_related("answered_by", "problem_ticket")
    return {
        "service": service,
        "cms_awaiting": updates.filter(status=CmsUpdate.Status.AWAITING_CHECK),
        "cms_answered": updates.exclude(status=CmsUpdate.Status.AWAITING_CHECK)[:CMS_HISTORY],
        "problem_form": CmsProblemForm(initial={"priority": Priority.STANDARD}),
        **extra,
    }


# Restoring a backup (art. 3.1.5)


def _hosting(request: HttpRequest, pk: int) -> Service:
    return get_scoped_or_404(
        request, Service.objects.select_related("plan", "customer").filter(plan__kind=Kind.SHARED_HOSTING), pk=pk
    )


@customer_required("open_tickets")
def hosting_restore(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation with the annex-1 reason and its price (htmx: only the price for the
    chosen priority). POST: open the ticket and go to it."""
    service = _hosting(request, pk)
    data = request.POST if request.method == "POST" else request.GET
    try:
        backup = hosting.find_backup(service, data.get("backup", ""))
    except ValidationError:
        messages.error(request, _("This backup is no longer offered. Choose one of the backups listed below."))
        return redirect(service)
    priority = data.get("priority") if data.get("priority") in Priority.values else Priority.STANDARD
    reason = hosting.restore_reason()
    context = {"service": service, "backup": backup, "reason": reason, "price": reason.price_text(priority)}
    if request.htmx and request.method == "GET":
        return render(request, "services/hosting_restore.html#restore-preview", context)
    form = RestoreForm(initial={"backup": backup.reference, "priority": priority})
    if request.method == "POST":
        form = RestoreForm(request.POST)
        if "preview" not in request.POST and form.is_valid():
            try:
                ticket = hosting.request_restore(
                    service=service, reference=backup.reference, priority=form.cleaned_data["priority"],
                    note=form.cleaned_data["note"], by=request.user, request=request,
                )  # fmt: skip
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(
                    request, _("Ticket %(number)s asks us to restore the backup.") % {"number": ticket.number}
                )
                return redirect(ticket)
    prices = [(value, label, reason.price_text(value)) for value, label in Priority.choices]
    context.update(form=form, priority=priority, prices=prices, balance=ledger.balance(service.customer))
    return render(request, "services/hosting_restore.html", context)


# Answering a managed-CMS update (art. 3.2.2)


def _cms_update(request: HttpRequest, pk: int) -> CmsUpdate:
    return get_scoped_or_404(request, CmsUpdate.objects.select_related("service__plan", "service__customer"), pk=pk)


@require_POST
@customer_required("open_tickets")
def cms_update_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """ "The site works": the update is acknowledged (htmx: the updates section is swapped)."""
    update = _cms_update(request, pk)
    try:
        hosting.confirm_cms_update(update=update, by=request.user, request=request)
    except ValidationError as error:
        text, level = " ".join(error.messages), "error"
    else:
        text, level = _("Thank you: we noted that the site works after the update."), "success"
    if request.htmx:
        context = _cms_context(update.service, cms_message=text, cms_message_level=level)
        return render(request, "services/hosting_cms_updates.html#cms-updates", context)
    (messages.success if level == "success" else messages.error)(request, text)
    return redirect(update.service)


@customer_required("open_tickets")
def cms_update_problem(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Report a problem": opens an incident ticket linked to the update and goes to it."""
    update = _cms_update(request, pk)
    form = CmsProblemForm(request.POST or None, initial={"priority": Priority.STANDARD})
    if request.method == "POST" and form.is_valid():
        try:
            ticket = hosting.report_cms_problem(
                update=update, description=form.cleaned_data["description"], priority=form.cleaned_data["priority"],
                by=request.user, request=request,
            )  # fmt: skip
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request, _("Ticket %(number)s is open: we will look at the problem.") % {"number": ticket.number}
            )
            if request.htmx:
                return HttpResponseClientRedirect(ticket.get_absolute_url())
            return redirect(ticket)
    return render(
        request, "services/hosting_cms_problem.html", {"update": update, "service": update.service, "form": form}
    )
