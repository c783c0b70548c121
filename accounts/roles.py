"""Which role of a customer's membership may do what: the one table the portal consults."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Administrator")
    TECHNICAL = "technical", _("Technical contact")
    BILLING = "billing", _("Billing contact")


class Permission(models.TextChoices):
    VIEW = "view", _("View services, tickets and invoices")
    OPEN_TICKETS = "open_tickets", _("Open tickets and add remarks")
    MANAGE_DNS = "manage_dns", _("Manage DNS records and certificates")
    SPEND = "spend", _("Spend credits and place orders")
    MANAGE_TEAM = "manage_team", _("Invite people, change roles, see the activity")


PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.VIEW: frozenset(Role),
    Permission.OPEN_TICKETS: frozenset({Role.OWNER, Role.ADMIN, Role.TECHNICAL}),
    Permission.MANAGE_DNS: frozenset({Role.OWNER, Role.ADMIN, Role.TECHNICAL}),
    Permission.SPEND: frozenset({Role.OWNER, Role.ADMIN, Role.BILLING}),
    Permission.MANAGE_TEAM: frozenset({Role.OWNER}),
}


def role_can(role: str, permission: str) -> bool:
    return Role(role) in PERMISSIONS[Permission(permission)]


def permissions_of(role: str) -> set[str]:
    return {str(p) for p, roles in PERMISSIONS.items() if Role(role) in roles}
