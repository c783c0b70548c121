"""Microsoft 365: the licences page, adding and cancelling licences (htmx), ending a pack."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from portal.reauth import sensitive
from portal.scoping import customer_required, get_scoped_or_404, scoped
from services import m365
from services.microsoft import ADMIN_CENTRE_URL
from services.models import Kind, LicenceChange, Service

PAGE = "services/m365_list.html"
RECENT_CHANGES = 5


def _packs(request: HttpRequest) -> QuerySet:
    """The customer's packs with what the page reads prefetched: a constant number of queries."""
    return (
        scoped(request, Service)
        .filter(plan__kind=Kind.M365_PACK)
        .select_related("plan")
        .prefetch_related(
            "plan__price_changes",
            Prefetch(
                "licence_changes",
                queryset=LicenceChange.objects.filter(fulfilment=LicenceChange.Fulfilment.PENDING),
                to_attr="pending_changes",
            ),
            Prefetch(
                "licence_changes",
                queryset=LicenceChange.objects.select_related("by")[:RECENT_CHANGES],
                to_attr="recent_changes",
            ),
        )
    )


def _page_context(request: HttpRequest) -> dict:
    today = timezone.localdate()
    services = list(_packs(request))
    for service in services:
        for change in service.recent_changes:
            change.count = abs(change.delta)  # "3 licences cancelled" reads better than "-3"
    packs = [m365.pack(s, today) for s in services if s.status not in m365.FINISHED]
    return {
        "packs": packs,
        "ended": [s for s in services if s.status in m365.FINISHED],
        "grand_total": m365.grand_total(packs),
        "admin_centre_url": ADMIN_CENTRE_URL,
        "in_eu": request.customer.is_established_in_eu,
    }


@customer_required("view")
def m365_list(request: HttpRequest) -> HttpResponse:
    return render(request, PAGE, _page_context(request))


def _pack_response(request: HttpRequest, service: Service, error: str = "") -> HttpResponse:
    """htmx: the pack's card with its new count and totals, and the grand total out of band."""
    context = _page_context(request)
    pack = next(p for p in context["packs"] if p.service.pk == service.pk)
    card = render_to_string(f"{PAGE}#pack", {**context, "pack": pack, "error": error}, request)
    total = render_to_string(f"{PAGE}#grand-total", {**context, "oob": True}, request)
    return HttpResponse(card + total)


def _delta(request: HttpRequest, service: Service) -> int:
    """``delta`` (+1, −1, any whole number) or ``quantity`` (the number of licences wanted)."""
    if "quantity" in request.POST:
        value = request.POST["quantity"].strip()
        if not value.isdecimal():
            raise ValidationError(_("Enter the number of licences you want, such as 5."))
        return int(value) - service.quantity
    try:
        return int(request.POST.get("delta", ""))
    except ValueError:
        raise ValidationError(_("Add or cancel at least one licence.")) from None


@require_POST
@customer_required("spend")
def m365_licences_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Art. 6.1.5: add or cancel licences at any time; htmx swaps the pack's card."""
    service = get_scoped_or_404(request, Service.objects.filter(plan__kind=Kind.M365_PACK), pk=pk)
    return _change_licences(request, service)


@sensitive
def _change_licences(request: HttpRequest, service: Service) -> HttpResponse:
    try:
        delta = _delta(request, service)
        if delta == 0:
            raise ValidationError(_("The pack already has this number of licences."))
        change = m365.change_licences(service=service, delta=delta, by=request.user)
    except ValidationError as error:
        message = " ".join(error.messages)
        if request.htmx and service.status not in m365.FINISHED:
            return _pack_response(request, service, error=message)
        messages.error(request, message)
        return redirect("m365_list")
    if service.status in m365.FINISHED:
        messages.success(
            request,
            _("The last licence of %(name)s is cancelled, so its contract has ended (art. 6.3.3).")
            % {"name": service.name},
        )
        return HttpResponseClientRedirect(reverse("m365_list")) if request.htmx else redirect("m365_list")
    if request.htmx:
        return _pack_response(request, service)
    if change.delta > 0:
        text = ngettext("%(count)d licence added to %(name)s.", "%(count)d licences added to %(name)s.", change.delta)
    else:
        text = ngettext(
            "%(count)d licence cancelled in %(name)s.", "%(count)d licences cancelled in %(name)s.", -change.delta
        )
    messages.success(request, text % {"count": abs(change.delta), "name": service.name})
    return redirect(reverse("m365_list") + f"#pack-{service.pk}")


@customer_required("spend")
def m365_end(request: HttpRequest, pk: int) -> HttpResponse:
    """Art. 6.3.2: GET asks for confirmation, POST ends the contract at once (after reauthentication)."""
    service = get_scoped_or_404(
        request, Service.objects.filter(plan__kind=Kind.M365_PACK).select_related("plan"), pk=pk
    )
    if service.status in m365.FINISHED:
        messages.info(request, _("%(name)s has already ended.") % {"name": service.name})
        return redirect("m365_list")
    if request.method == "POST":
        return _end_contract(request, service)
    pack = m365.pack(service, timezone.localdate())
    return render(request, "services/m365_end.html", {"pack": pack, "service": service})


@sensitive
def _end_contract(request: HttpRequest, service: Service) -> HttpResponse:
    try:
        m365.end_contract(service=service, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The contract of %(name)s has ended and its licences are cancelled.") % {"name": service.name},
        )
    return redirect("m365_list")
