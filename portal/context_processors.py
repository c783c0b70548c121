from django.conf import settings

from accounts.roles import permissions_of
from portal.scoping import memberships_of


def portal(request) -> dict:
    """The current customer, the person's other customers and what their role allows."""
    membership = getattr(request, "membership", None)
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"demo_mode": settings.PORTAL_DEMO_BANNER}

    return {
        "current_membership": membership,
        "my_memberships": lambda: memberships_of(request),
        "perms_here": permissions_of(membership.role) if membership else set(),
        "demo_mode": settings.PORTAL_DEMO_BANNER,
    }
