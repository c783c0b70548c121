from collections import defaultdict

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from billing import ledger
from portal.forms import add_errors
from portal.reauth import sensitive
from portal.scoping import customer_required, get_scoped_or_404, scoped
from services.models import Service
from support import access, charges, tickets
from support.forms import AccessGrantForm, RemarkForm, TicketFilterForm, TicketForm, reasons_for
from support.models import OPEN_STATUSES, Attachment, Priority, Quote, StaffAccessGrant, Ticket


def _services(request: HttpRequest):
    return scoped(request, Service).select_related("plan").exclude(status=Service.Status.ENDED).order_by("name")


def _ticket(request: HttpRequest, number: str) -> Ticket:
    tickets_ = Ticket.objects.select_related("reason", "service", "customer", "opened_by")
    return get_scoped_or_404(request, tickets_, number=number)


@customer_required("view")
def ticket_list(request: HttpRequest) -> HttpResponse:
    form = TicketFilterForm(request.GET or None, services=_services(request))
    found = scoped(request, Ticket).select_related("reason", "service")
    filters = form.cleaned_data if form.is_valid() else {}
    status = filters.get("status", "")
    if status == "":
        found = found.filter(status__in=OPEN_STATUSES)
    elif status != "all":
        found = found.filter(status=status)
    if filters.get("kind"):
        found = found.filter(kind=filters["kind"])
    if filters.get("service"):
        found = found.filter(service=filters["service"])
    if filters.get("q"):
        q = filters["q"].strip()
        found = found.filter(Q(number__icontains=q) | Q(subject__icontains=q) | Q(description__icontains=q))
    page = Paginator(found, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "now": timezone.now()}
    template = "support/ticket_list.html#ticket-table" if request.htmx else "support/ticket_list.html"
    return render(request, template, context)


def _preview(form: TicketForm) -> dict:
    """The price and the deadline the ticket would get if sent now."""
    reason_id, priority = form.data.get("reason", ""), form.data.get("priority") or Priority.STANDARD
    reason = form.fields["reason"].queryset.filter(pk=reason_id).first() if str(reason_id).isdecimal() else None
    if reason is None or priority not in Priority.values:
        return {}
    return {
        "reason": reason,
        "price": reason.price_text(priority),
        "deadline": tickets.deadline_for(reason=reason, priority=priority, logged_at=timezone.now()),
    }


@customer_required("open_tickets")
def ticket_new(request: HttpRequest) -> HttpResponse:
    services = _services(request)
    initial = {"service": request.GET.get("service", ""), "priority": Priority.STANDARD}
    if "reason" in request.GET:
        initial["reason"] = request.GET["reason"]
    form = TicketForm(request.POST or None, request.FILES or None, services=services, initial=initial)
    if request.method == "POST" and "preview" not in request.POST and form.is_valid():
        try:
            ticket = tickets.open_ticket(
                customer=request.customer,
                opened_by=request.user,
                service=form.cleaned_data["service"],
                reason=form.cleaned_data["reason"],
                priority=form.cleaned_data["priority"],
                subject=form.cleaned_data["subject"],
                description=form.cleaned_data["description"],
                files=form.cleaned_data["files"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request, _("Ticket %(number)s is open. We will answer you here.") % {"number": ticket.number}
            )
            return redirect(ticket)
    preview_form = form if form.is_bound else TicketForm(initial, services=services)
    context = {
        "form": form,
        "preview": _preview(preview_form) if form.is_bound else {},
        "attachment_limit": settings.SUPPORT_ATTACHMENT_MAX_BYTES,
    }
    return render(request, "support/ticket_new.html", context)


@customer_required("open_tickets")
def ticket_new_reasons(request: HttpRequest) -> HttpResponse:
    """htmx: the reason options narrowed to the chosen service's kind."""
    reasons = reasons_for(request.GET.get("service", ""), _services(request))
    form = TicketForm(services=_services(request))
    form.fields["reason"].queryset = reasons
    return render(request, "support/ticket_new.html#reason-field", {"form": form})


@customer_required("open_tickets")
def ticket_new_preview(request: HttpRequest) -> HttpResponse:
    """htmx: the price and deadline of the chosen reason and priority."""
    form = TicketForm(request.GET, services=_services(request))
    return render(request, "support/ticket_new.html#preview", {"preview": _preview(form)})


@customer_required("view")
def ticket_detail(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket(request, number)
    return render(request, "support/ticket_detail.html", _detail_context(request, ticket, RemarkForm()))


def _visible_attachments(ticket: Ticket):
    """The files the customer may see (not those of staff's internal notes), each knowing its ticket."""
    return ticket.attachments.filter(Q(remark__isnull=True) | Q(remark__is_internal=False))


def _costs_context(ticket: Ticket) -> dict:
    """What the credits section shows (the page's ``costs`` fragment)."""
    return {
        "ticket": ticket,
        "time_entries": ticket.time_entries.all(),
        "quotes": ticket.quotes.all(),
        "credits_spent": -sum(e.credits for e in ticket.ledger_entries.all()),
        "balance": ledger.balance(ticket.customer),
    }


def _detail_context(request: HttpRequest, ticket: Ticket, form: RemarkForm) -> dict:
    # One query for the files of the whole thread, however long, rather than a prefetch that runs
    # only when there are remarks; through ``ticket.attachments`` each file's link needs no query.
    files_of: dict[int | None, list[Attachment]] = defaultdict(list)
    for attachment in _visible_attachments(ticket):
        files_of[attachment.remark_id].append(attachment)
    remarks = ticket.remarks.filter(is_internal=False).select_related("author")
    now = timezone.now()
    return {
        **_costs_context(ticket),
        "thread": [(remark, files_of[remark.pk]) for remark in remarks],
        "ticket_attachments": files_of[None],
        "events": ticket.events.select_related("actor"),
        "form": form,
        "grant": access.grant_for_ticket(ticket, now),
        "state": ticket.response_state(now),
        "can_reopen": ticket.can_reopen(now),
        "price_text": ticket.reason.price_text(ticket.priority),
    }


@require_POST
@customer_required("open_tickets")
def ticket_remark(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket(request, number)
    form = RemarkForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            remark = tickets.add_remark(
                ticket=ticket, author=request.user, body=form.cleaned_data["body"], files=form.cleaned_data["files"]
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            if request.htmx:
                attachments = _visible_attachments(ticket).filter(remark=remark)
                return render(
                    request, "support/ticket_detail.html#remark", {"remark": remark, "attachments": attachments}
                )
            messages.success(request, _("Your remark was added."))
            return redirect(ticket)
    if request.htmx:
        response = render(request, "support/ticket_detail.html#remark-form", {"ticket": ticket, "form": form})
        return reswap(retarget(response, "#remark-form"), "outerHTML")
    return render(request, "support/ticket_detail.html", _detail_context(request, ticket, form))


@require_POST
@customer_required("open_tickets")
def ticket_close(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket(request, number)
    if ticket.is_open:
        tickets.close(ticket=ticket, by=request.user)
        messages.success(request, _("Ticket %(number)s is closed.") % {"number": ticket.number})
    return redirect(ticket)


@require_POST
@customer_required("open_tickets")
def ticket_reopen(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _ticket(request, number)
    try:
        tickets.reopen(ticket=ticket, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Ticket %(number)s is open again.") % {"number": ticket.number})
    return redirect(ticket)


@require_POST
@customer_required("open_tickets")
def ticket_access(request: HttpRequest, number: str) -> HttpResponse:
    """Art. 7.3: grant or revoke staff access to the configuration for this ticket."""
    ticket = _ticket(request, number)
    if request.POST.get("action") == "revoke":
        for grant in access.active_grants(request.customer).filter(ticket=ticket):
            access.revoke(access=grant, by=request.user, request=request)
        messages.success(request, _("Staff no longer have access to your configuration for this ticket."))
    else:
        access.grant(customer=request.customer, ticket=ticket, by=request.user, request=request)
        messages.success(request, _("Staff may access your configuration for this ticket."))
    return HttpResponseClientRedirect(ticket.get_absolute_url()) if request.htmx else redirect(ticket)


@customer_required("open_tickets")
def staff_access(request: HttpRequest) -> HttpResponse:
    """Art. 7.3: customer-wide access for a limited time, and every grant with its state."""
    form = AccessGrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        access.grant(
            customer=request.customer, by=request.user, duration=form.cleaned_data["duration"], request=request
        )
        messages.success(request, _("Staff may access your configuration for the time you chose."))
        return redirect("staff_access")
    grants = scoped(request, StaffAccessGrant).select_related("ticket", "granted_by", "revoked_by")[:50]
    now = timezone.now()
    for grant in grants:
        grant.active = grant.is_active(now)
    return render(request, "support/staff_access.html", {"form": form, "grants": grants})


@require_POST
@customer_required("open_tickets")
def staff_access_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    grant = get_scoped_or_404(request, StaffAccessGrant, pk=pk)
    access.revoke(access=grant, by=request.user, request=request)
    messages.success(request, _("Staff access was revoked."))
    return redirect("staff_access")


@customer_required("view")
def ticket_attachment(request: HttpRequest, number: str, pk: int) -> FileResponse:
    attachment = get_scoped_or_404(
        request, Attachment.objects.select_related("ticket", "remark"), ticket__number=number, pk=pk
    )
    if attachment.remark_id and attachment.remark.is_internal:
        raise Http404  # files of staff's internal notes are for staff only
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name,
        content_type="application/octet-stream",
    )  # fmt: skip


def _quote(request: HttpRequest, number: str, pk: int) -> Quote:
    return get_scoped_or_404(request, Quote.objects.select_related("ticket"), ticket__number=number, pk=pk)


def _costs_response(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    if request.htmx:
        ticket.refresh_from_db()
        return render(request, "support/ticket_detail.html#costs", _costs_context(ticket))
    return redirect(ticket)


@require_POST
@customer_required("spend")
@sensitive
def quote_accept(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """Art. 7.4: the customer accepts the credits agreed for work annex 1 does not price."""
    quote = _quote(request, number, pk)
    try:
        quote = charges.accept_quote(quote=quote, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if quote.status == Quote.Status.ACCEPTED:
            messages.success(request, _("Quote accepted: %(credits)d credits spent.") % {"credits": quote.credits})
        else:
            messages.warning(request, _("Quote accepted, but your balance cannot pay it yet. Buy credits to continue."))
    return _costs_response(request, quote.ticket)


@require_POST
@customer_required("spend")
def quote_decline(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    quote = _quote(request, number, pk)
    try:
        charges.decline_quote(quote=quote, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Quote declined. Nothing was charged."))
    return _costs_response(request, quote.ticket)
