"""Sensitive actions (inviting, changing roles, later spending and ordering) ask for the
password (or a second factor) again, through allauth's reauthentication flow.

A plain form post is suspended and replayed once the person has confirmed; an htmx post is
turned into a full-page redirect to the prompt, replayed as a normal form post afterwards.
"""

from functools import wraps

from allauth.account.adapter import get_adapter
from allauth.account.decorators import reauthentication_required
from allauth.account.internal.flows.reauthentication import is_reauthentication_required, suspend_request
from django_htmx.http import HttpResponseClientRedirect

APP = "allauth.account"  # follows ACCOUNT_REAUTHENTICATION_REQUIRED


def sensitive(view):
    protected = reauthentication_required(view, app=APP)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.htmx and is_reauthentication_required(request, app=APP):
            for key in [k for k in request.META if k.startswith("HTTP_HX_")]:
                del request.META[key]
            methods = get_adapter(request).get_reauthentication_methods(request.user)
            return HttpResponseClientRedirect(suspend_request(request, methods[0]["url"]).url)
        return protected(request, *args, **kwargs)

    return wrapper
