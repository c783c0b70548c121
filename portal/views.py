from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import attention
from portal.scoping import customer_required, scoped, select_customer
from services.hosting import ending_hostings
from services.models import Service


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    return redirect("account_login")


@customer_required("view")
def dashboard(request: HttpRequest) -> HttpResponse:
    services = scoped(request, Service).select_related("plan")
    today = timezone.localdate()
    return render(
        request,
        "portal/dashboard.html",
        {
            "attention": attention.for_customer(lambda model: scoped(request, model), now=timezone.now()),
            "services_by_kind": services.count_by_kind(),
            "ending_soon": services.ending_within(days=60, today=today)[:10],
            "hosting_ending": ending_hostings(services, today=today)[:5],  # art. 3.5
        },
    )


@login_required
def no_customer(request: HttpRequest) -> HttpResponse:
    if request.membership:
        return redirect("dashboard")
    if request.user.is_staff:
        return redirect("admin:index")  # staff belong to no customer: their desk is the admin
    return render(request, "portal/no_customer.html", status=403)


@require_POST
@login_required
def switch_customer(request: HttpRequest) -> HttpResponse:
    try:
        customer_id = int(request.POST.get("customer", ""))
    except ValueError:
        customer_id = 0
    if not select_customer(request, customer_id):
        messages.error(request, _("You are not a member of that customer."))
        return redirect("dashboard")
    # The page the person was on may show the previous customer's object: start from the dashboard.
    return redirect("dashboard")


def favicon(request: HttpRequest) -> HttpResponse:
    # Resolved per request: the hashed name exists only once collectstatic has run.
    return redirect(static("portal/favicon.svg"), permanent=True)


def error_403(request: HttpRequest, exception=None) -> HttpResponse:
    return render(request, "403.html", status=403)


def error_404(request: HttpRequest, exception=None) -> HttpResponse:
    return render(request, "404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    # No request context: its processors query the database, which may be what just failed (make soak).
    return HttpResponse(loader.get_template("500.html").render(), status=500)
