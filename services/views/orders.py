"""The catalogue and orders: customers see the plans, order them and follow their orders."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portal.forms import add_errors
from portal.reauth import sensitive
from portal.scoping import customer_required, get_scoped_or_404, scoped
from services import orders
from services.models import ADDON_KINDS, Kind, Order, OrderLine, Plan, Service


class OrderForm(forms.Form):
    plan = forms.ModelChoiceField(label=gettext_lazy("Product"), queryset=Plan.objects.all())
    name = forms.CharField(label=gettext_lazy("Name"), max_length=255, required=False)
    quantity = forms.IntegerField(label=gettext_lazy("Users"), min_value=1, initial=1)
    parent_service = forms.ModelChoiceField(label=gettext_lazy("For the shared hosting"), queryset=None, required=False)

    def __init__(self, *args, hostings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent_service"].queryset = hostings


def _hostings(request: HttpRequest):
    """The customer's active shared hostings: the ones an add-on can be ordered for (art. 3.2.3, 3.3.2)."""
    return (
        scoped(request, Service)
        .filter(plan__kind=Kind.SHARED_HOSTING, status=Service.Status.ACTIVE)
        .select_related("plan")
        .order_by("name")
    )


def _with_price(plans):
    for plan in plans:
        plan.price_label = orders.price_text(plan)
    return plans


@customer_required("view")
def catalogue(request: HttpRequest) -> HttpResponse:
    plans = _with_price(list(Plan.objects.filter(is_active=True)))
    sections = [
        {
            "kind": kind,
            "plans": [plan for plan in plans if plan.kind == kind],
            "is_addon": kind in ADDON_KINDS,
            "elsewhere": orders.ORDERED_ELSEWHERE.get(kind, ""),
        }
        for kind in Kind
    ]
    context = {
        "sections": [section for section in sections if section["plans"]],
        "in_eu": request.customer.is_established_in_eu,
        "has_hosting": _hostings(request).exists(),
    }
    return render(request, "services/catalogue.html", context)


def _order_page(request: HttpRequest, form: OrderForm, plan: Plan | None) -> HttpResponse:
    hostings = form.fields["parent_service"].queryset
    context = {
        "form": form,
        "plan": plan,
        "plans": _with_price(orders.in_catalogue_order(orders.orderable_plans())),
        "hostings": hostings,
        "is_addon": plan is not None and plan.kind in ADDON_KINDS,
        "is_m365": plan is not None and plan.kind == Kind.M365_PACK,
        "max_users": orders.max_users(plan) if plan is not None else None,
        "elsewhere": orders.ORDERED_ELSEWHERE.get(plan.kind, "") if plan is not None else "",
        "in_eu": request.customer.is_established_in_eu,
    }
    if plan is not None:
        plan.price_label = orders.price_text(plan)
    template = "services/order_new.html#order-form" if request.htmx else "services/order_new.html"
    return render(request, template, context)


@customer_required("spend")
def order_new(request: HttpRequest) -> HttpResponse:
    """GET: the form for the plan chosen (?plan=ID); htmx swaps it when the plan changes. POST: place it."""
    if request.method == "POST":
        return _place_order(request)
    plan_id = request.GET.get("plan", "")
    plan = orders.orderable_plans().filter(pk=plan_id).first() if plan_id.isdecimal() else None
    form = OrderForm(initial={"plan": plan, "quantity": 1}, hostings=_hostings(request))
    return _order_page(request, form, plan)


@sensitive
def _place_order(request: HttpRequest) -> HttpResponse:
    form = OrderForm(request.POST, hostings=_hostings(request))
    if form.is_valid():
        data = form.cleaned_data
        item = orders.Item(data["plan"], data["name"], data["quantity"], data["parent_service"])
        try:
            order = orders.place_order(customer=request.customer, by=request.user, lines=[item])
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("Order %(number)s is placed. Nothing is active or invoiced until we accept it.")
                % {"number": order.pk},
            )
            return redirect(order)
    plan_id = request.POST.get("plan", "")
    plan = Plan.objects.filter(pk=plan_id).first() if plan_id.isdecimal() else None
    return _order_page(request, form, plan)


def _orders(request: HttpRequest):
    lines = OrderLine.objects.select_related("plan", "service", "parent_service")
    return scoped(request, Order).select_related("invoice").prefetch_related(Prefetch("lines", queryset=lines))


@customer_required("view")
def order_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(_orders(request), 25).get_page(request.GET.get("page"))
    return render(request, "services/order_list.html", {"page": page})


@customer_required("view")
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_scoped_or_404(request, _orders(request).select_related("placed_by"), pk=pk)
    context = {"order": order, "lines": order.lines.all(), "total": orders.order_total(order)}
    for line in context["lines"]:
        line.plan.price_label = orders.price_text(line.plan)
    return render(request, "services/order_detail.html", context)


@require_POST
@customer_required("spend")
def order_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_scoped_or_404(request, Order, pk=pk)
    try:
        orders.cancel_order(order=order, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Order %(number)s is cancelled.") % {"number": order.pk})
    return redirect(order)
