from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext

from portal.scoping import customer_required, get_scoped_or_404, scoped
from services.models import CmsUpdate, Kind, Service, ServiceEvent
from services.views import hosting as hosting_views

HISTORY = 20  # the latest events shown on the service page


@customer_required("view")
def service_list(request: HttpRequest) -> HttpResponse:
    services = scoped(request, Service).select_related("plan", "parent")
    kind = request.GET.get("kind", "")
    if kind in Kind.values:
        services = services.filter(plan__kind=kind)
    else:
        kind = ""
    page = Paginator(services, 25).get_page(request.GET.get("page"))
    context = {"page": page, "kind": kind, "kinds": Kind.choices, "kind_label": Kind(kind).label if kind else ""}
    template = "services/service_list.html#service-table" if request.htmx else "services/service_list.html"
    return render(request, template, context)


def _history(service: Service) -> list[ServiceEvent]:
    """The latest events, newest first, with status codes and yes/no values shown as words."""
    labels = {
        ServiceEvent.Field.STATUS: dict(Service.Status.choices),
        ServiceEvent.Field.AUTO_RENEW: {"True": gettext("yes"), "False": gettext("no")},
    }
    events = list(service.events.select_related("actor").order_by("-created_at", "-pk")[:HISTORY])
    for event in events:
        names = labels.get(event.field, {})
        event.old_display = names.get(event.old_value, event.old_value)
        event.new_display = names.get(event.new_value, event.new_value)
    return events


def _zone_url(service: Service) -> str:
    """The DNS editor of a domain whose zone we host, when there is one (and the editor exists)."""
    zone = getattr(service, "zone", None)  # the reverse one-to-one raises DoesNotExist, read as None
    if zone is None:
        return ""
    try:
        return reverse("dns_zone", args=[service.pk])
    except NoReverseMatch:
        return ""


@customer_required("view")
def service_detail(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_scoped_or_404(request, Service.objects.select_related("plan", "parent__plan"), pk=pk)
    awaiting = Count("cms_updates", filter=Q(cms_updates__status=CmsUpdate.Status.AWAITING_CHECK))
    addons = service.addons.select_related("plan").annotate(awaiting_checks=awaiting)
    now = timezone.now()
    context = {
        "service": service,
        "addons": addons,
        "events": _history(service),
        "days_left": service.days_left(timezone.localdate(now)),
        "zone_url": _zone_url(service) if service.plan.kind == Kind.DOMAIN else "",
        **hosting_views.detail_context(service, now=now),
    }
    return render(request, "services/service_detail.html", context)
