from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse


@login_required
def ok(request: HttpRequest) -> HttpResponse:
    """The benchmark's baseline: the framework, middleware and session, and nothing of the portal."""
    return HttpResponse("ok", content_type="text/plain")
