"""Support e-mails. The ticket number is in every subject (art. 7.2); sent after commit by Celery."""

from django.conf import settings
from django.urls import reverse

from accounts.models import User
from accounts.roles import PERMISSIONS, Permission
from portal import mail


def _link(ticket) -> str:
    return settings.PORTAL_BASE_URL + ticket.get_absolute_url()


def _admin_link(ticket) -> str:
    return f"{settings.PORTAL_BASE_URL}/admin/support/ticket/{ticket.pk}/change/"


def customer_recipients(ticket, *, also: Permission | None = None) -> list[str]:
    """The customer's people who follow tickets (roles that may open them) and whoever opened this one;
    with ``also``, the roles holding that permission too (those who can buy credits, say)."""
    roles = PERMISSIONS[Permission.OPEN_TICKETS] | (PERMISSIONS[also] if also else frozenset())
    emails = set(
        ticket.customer.memberships.filter(role__in=roles, user__is_active=True).values_list("user__email", flat=True)
    )
    if ticket.opened_by_id and ticket.opened_by.is_active:
        emails.add(ticket.opened_by.email)
    return sorted(emails)


def staff_recipients(ticket) -> list[str]:
    if ticket.assignee_id and ticket.assignee.is_active:
        return [ticket.assignee.email]
    if settings.SUPPORT_STAFF_EMAILS:
        return list(settings.SUPPORT_STAFF_EMAILS)
    return sorted(User.objects.filter(is_staff=True, is_active=True).values_list("email", flat=True))


def _to_customer(ticket, template: str, *, also: Permission | None = None, **context) -> None:
    to = customer_recipients(ticket, also=also)
    if to:
        mail.send_templated(
            to=to,
            template_prefix=f"support/email/{template}",
            context={"ticket": ticket, "link": _link(ticket), **context},
            language=ticket.customer.preferred_language,
        )


def _to_staff(ticket, template: str, **context) -> None:
    to = staff_recipients(ticket)
    if to:
        mail.send_templated(
            to=to,
            template_prefix=f"support/email/{template}",
            context={"ticket": ticket, "link": _admin_link(ticket), **context},
            language=settings.LANGUAGE_CODE,
        )


def new_ticket_to_staff(ticket) -> None:
    _to_staff(ticket, "staff_new_ticket")


def remark_to_staff(remark, *, ticket=None, reopened: bool = False) -> None:
    _to_staff(ticket or remark.ticket, "staff_remark", remark=remark, reopened=reopened)


def reply_to_customer(remark) -> None:
    _to_customer(remark.ticket, "customer_reply", remark=remark)


def status_to_customer(ticket, old_status: str) -> None:
    from support.models import Status

    _to_customer(ticket, "customer_status", old_status=Status(old_status).label)


def deadline_warning_to_staff(ticket, level: str) -> None:
    _to_staff(ticket, "staff_deadline_warning", level=level)


def awaiting_credits_to_customer(ticket, *, credits: int, balance: int) -> None:
    _to_customer(
        ticket, "customer_awaiting_credits", also=Permission.SPEND, credits=credits, balance=balance,
        buy_link=settings.PORTAL_BASE_URL + reverse("buy_credits"),
    )  # fmt: skip


def quote_to_customer(quote) -> None:
    _to_customer(quote.ticket, "customer_quote", quote=quote)


def quote_answered_to_staff(quote) -> None:
    _to_staff(quote.ticket, "staff_quote_answered", quote=quote)
