from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.scoping import customer_required, get_scoped_or_404, scoped
from services.models import Kind, Service


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


@customer_required("view")
def service_detail(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_scoped_or_404(request, Service.objects.select_related("plan", "parent__plan"), pk=pk)
    addons = service.addons.select_related("plan")
    return render(request, "services/service_detail.html", {"service": service, "addons": addons})
