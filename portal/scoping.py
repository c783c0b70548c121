"""The customer scoping helper: every customer-facing page fetches through it.

A signed-in person acts for one customer at a time (the one chosen in the switcher, kept in
the session). Pages read ``request.customer`` and ``request.membership`` and fetch objects with
``scoped()`` / ``get_scoped_or_404()``, which filter on the model's path to its customer
(``CUSTOMER_PATH`` on the model, ``"customer"`` by default). An object of another customer is
then simply not found: 404, never a hint that it exists.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import SimpleLazyObject

SESSION_KEY = "portal_customer_id"


def memberships_of(request: HttpRequest) -> list:
    """The signed-in person's memberships, by customer name; one query per request."""
    from accounts.models import Membership

    if not hasattr(request, "_portal_memberships"):
        user = request.user
        request._portal_memberships = (
            list(Membership.objects.select_related("customer").filter(user=user).order_by("customer__name", "pk"))
            if user.is_authenticated
            else []
        )
    return request._portal_memberships


def _current_membership(request: HttpRequest):
    memberships = memberships_of(request)
    wanted = request.session.get(SESSION_KEY)
    chosen = next((m for m in memberships if m.customer_id == wanted), None)
    return chosen or (memberships[0] if memberships else None)


class CurrentCustomerMiddleware:
    """Sets ``request.membership`` and ``request.customer`` (lazily: no query unless used)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = SimpleLazyObject(lambda: _current_membership(request))
        request.customer = SimpleLazyObject(lambda: request.membership.customer if request.membership else None)
        return self.get_response(request)


def select_customer(request: HttpRequest, customer_id: int) -> bool:
    """Make ``customer_id`` the current customer if the user is a member of it."""
    from accounts.models import Membership

    if not Membership.objects.filter(user=request.user, customer_id=customer_id).exists():
        return False
    request.session[SESSION_KEY] = customer_id
    return True


def customer_path(model: type[Model]) -> str:
    return getattr(model, "CUSTOMER_PATH", "customer")


def scoped(request: HttpRequest, queryset: QuerySet | type[Model]) -> QuerySet:
    """Only the rows of the request's current customer (none without a membership)."""
    if not isinstance(queryset, QuerySet):
        queryset = queryset._default_manager.all()
    customer = request.customer
    if not customer:
        return queryset.none()
    return queryset.filter(**{customer_path(queryset.model): customer})


def get_scoped_or_404(request: HttpRequest, queryset: QuerySet | type[Model], **lookups: Any):
    return get_object_or_404(scoped(request, queryset), **lookups)


def customer_required(permission: str = "view"):
    """Signed in, member of a customer, and the membership's role grants ``permission``."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.membership:
                return redirect("no_customer")
            if not request.membership.can(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
