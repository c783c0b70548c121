"""Prepaid renewals, expiry of unpaid periods and Microsoft 365 monthly billing (issue 7).

The rules, as the portal reads the particular conditions:

- A renewal invoice for exactly the next period, ``[current end, current end + period)``, is issued
  ``RENEWAL_INVOICE_DAYS`` before the period ends (art. 3.4.1, 4.4.1): hosting and its add-ons by one
  year, domains by whole years (the plan's period, at least one year). Certificates are not renewed
  by invoice (a renewal is a new request, art. 5.2.2); Microsoft 365 is billed monthly instead.
- Only paying that invoice renews that period: the period is extended from the old end, once,
  whether the payment is imported twice or the job runs twice (a conditional update decides).
- A period ending on day D is in force through D. On D + 1, unpaid, the service expires: a
  hosting (or add-on) is suspended, a domain released (art. 4.4.2), add-ons end with their hosting
  (``lifecycle.set_status``). A customer who turned auto-renew off is told the end date instead of
  being invoiced, and the service ends on D + 1.
- A renewal paid after the service expired does not revive it: staff are told, and decide in the
  admin (``reactivate_after_late_payment`` or ``refund_late_payment``).

Every job is a function of ``today`` (or ``now``) wrapped in ``jobs.recorded``: its items are
claimed with a unique constraint (``one_invoice_per_period``, ``one_notice_per_service_period_kind``)
or a conditional ``update()``, so that it is safe to run twice and on two workers at once. The
invoicing and expiry jobs lock, read and write a batch of items at once (``Run.each_batch``: a fixed
number of queries per batch, not per item); a batch that fails is done again item by item, each in
its own transaction.
"""

import datetime
import itertools
import logging
import math
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Customer, User
from billing import invoices
from billing.invoices import Line, money
from billing.models import Invoice, InvoiceLine
from portal import audit
from services import lifecycle, notices
from services.jobs import Run, recorded
from services.models import ADDON_KINDS, Kind, Service, ServiceEvent, ServiceNotice

logger = logging.getLogger(__name__)

Status = Service.Status
NOT_RENEWED_BY_INVOICE = [Kind.SSL_CERTIFICATE, Kind.M365_PACK]
HOSTING_KINDS = {Kind.SHARED_HOSTING, *ADDON_KINDS}

# Job outcomes, as ops read them in run summaries and in the admin.
EXTENDED = "extended"
PAID_AFTER_EXPIRY = "paid after expiry (staff decide)"


# Periods and prices


def renewal_months(plan) -> int:
    """Domains renew by whole years, at least one (art. 4.4.1); everything else by one year (art. 3.4.1)."""
    if plan.kind == Kind.DOMAIN:
        return 12 * max(1, math.ceil(plan.period_months / 12))
    return 12


def next_period(service: Service) -> tuple[datetime.date, datetime.date]:
    """The period a renewal pays for: from the current end, never from the payment date."""
    start = service.current_period_end
    return start, start + relativedelta(months=renewal_months(service.plan))


def renewal_price(plan) -> Decimal:
    """The plan's price is per plan period; a renewal of another length pays pro rata."""
    months = renewal_months(plan)
    if not plan.period_months or plan.period_months == months:
        return plan.price
    return money(plan.price * months / plan.period_months)


def renewal_line(service: Service) -> Line:
    start, end = next_period(service)
    with translation.override(service.customer.preferred_language):
        description = _("Renewal of %(name)s (%(plan)s) from %(start)s to %(end)s") % {
            "name": service.name, "plan": service.plan.name, "start": start.isoformat(), "end": end.isoformat(),
        }  # fmt: skip
    return Line(
        description=description[:255], unit_price=renewal_price(service.plan), service=service, period_start=start,
        period_end=end,
    )  # fmt: skip


def _note(service: Service, text: str, *, by: User | None, now: datetime.datetime, save: bool = True) -> ServiceEvent:
    """A line in the service's history (what the portal did and why); unsaved with ``save=False``, for
    a batch to insert at once."""
    event = ServiceEvent(
        service=service, actor=by if by is not None and by.pk else None, field=ServiceEvent.Field.NOTE,
        new_value=text[:200], created_at=now,
    )  # fmt: skip
    if save:
        event.save(force_insert=True)
    return event


def _invoice_note(line, *, number: str, now: datetime.datetime, save: bool = True) -> ServiceEvent:
    text = _("Renewal invoice %(number)s issued for %(start)s → %(end)s.") % {
        "number": number, "start": line.period_start, "end": line.period_end,
    }  # fmt: skip
    return _note(line.service, text, by=None, now=now, save=save)


def _end_note(service: Service, *, now: datetime.datetime, save: bool = True) -> ServiceEvent:
    text = _("Automatic renewal is off: the customer was told the contract ends on %(end)s.") % {
        "end": service.current_period_end
    }
    return _note(service, text, by=None, now=now, save=save)


def _read(pks, queryset=None) -> dict[int, Service]:
    """The services of ``pks`` still in ``queryset`` (by default all), with their plan and customer, in
    one query, in the services' usual order. After ``_lock``: a fresh read, that sees what a concurrent
    worker committed meanwhile."""
    queryset = Service.objects.all() if queryset is None else queryset
    return {service.pk: service for service in queryset.filter(pk__in=list(pks)).select_related("plan", "customer")}


def _active_addons(services) -> dict[int, list[Service]]:
    """The active add-ons of ``services``, by hosting, in one query (named in the end and expiry e-mails)."""
    addons: dict[int, list[Service]] = {service.pk: [] for service in services}
    for addon in Service.objects.filter(parent__in=list(addons), status=Status.ACTIVE).select_related("plan"):
        addons[addon.parent_id].append(addon)
    return addons


def _notices_sent(keys, kinds) -> set[tuple[int, datetime.date, str]]:
    """Which of the (service pk, period end, kind) ``keys`` were sent already, in one query."""
    keys = set(keys)
    if not keys:
        return set()
    rows = ServiceNotice.objects.filter(service__in={key[0] for key in keys}, kind__in=set(kinds))
    return keys & set(rows.values_list("service_id", "period_end", "kind"))


def _claim_all(keys, *, now: datetime.datetime) -> None:
    """Insert the notices of ``keys`` at once. One that a concurrent worker claimed meanwhile makes the
    insert fail: the batch is then rolled back and done item by item, where each claim is decided alone."""
    ServiceNotice.objects.bulk_create(
        ServiceNotice(service_id=pk, period_end=end, kind=kind, sent_at=now) for pk, end, kind in keys
    )


def issue_lines(*, customer: Customer, lines: list[Line], today: datetime.date) -> tuple[list[Invoice], int]:
    """One invoice for ``lines``; returns (invoices issued, lines already invoiced elsewhere).

    The ``one_invoice_per_period`` constraint refuses a period a concurrent worker invoiced meanwhile:
    the savepoint then gives everything back (the invoice number included: no gap), and each line is
    tried on its own invoice, so the others are still issued."""
    try:
        with transaction.atomic():
            issued = [invoices.issue(customer=customer, lines=lines, today=today)]
    except IntegrityError:
        if len(lines) == 1:
            return [], 1
        issued, taken = [], 0
        for line in lines:
            try:
                with transaction.atomic():
                    issued.append(invoices.issue(customer=customer, lines=[line], today=today))
            except IntegrityError:
                taken += 1
    else:
        taken = 0
    for invoice in issued:
        notices.send_invoice(invoice)
    return issued, taken


def _lock(pks) -> None:
    """Lock the services' rows until the item's transaction ends: a concurrent worker waits, then
    sees what this one did. (SQLite serialises writers anyway.)"""
    list(Service.objects.select_for_update().filter(pk__in=pks).order_by("pk").values_list("pk", flat=True))


# 1. Renewal invoices (art. 3.4.1, 4.4.1) and end announcements


def _ending_within(today: datetime.date):
    until = today + datetime.timedelta(days=settings.RENEWAL_INVOICE_DAYS)
    return (
        Service.objects.filter(status=Status.ACTIVE, current_period_end__gte=today, current_period_end__lte=until)
        .exclude(plan__kind__in=NOT_RENEWED_BY_INVOICE)
        .exclude(plan__period_months=0)
    )


def due_for_invoice(today: datetime.date):
    """Active services with auto-renew on whose period ends within ``RENEWAL_INVOICE_DAYS`` and whose
    next period has no invoice yet. An add-on renews while its hosting does (art. 3.2.3, 3.3.2)."""
    invoiced = InvoiceLine.objects.filter(service=OuterRef("pk"), period_start=OuterRef("current_period_end"))
    hosting_goes_on = Q(parent__status=Status.ACTIVE) & (
        Q(parent__auto_renew=True) | Q(parent__current_period_end__gt=F("current_period_end"))
    )
    return (
        _ending_within(today)
        .filter(auto_renew=True)
        .filter(Q(parent__isnull=True) | hosting_goes_on)
        .exclude(Exists(invoiced))
    )


def due_for_end_announcement(today: datetime.date):
    """Auto-renew off: the customer is told the end date once. An add-on of a hosting that is not
    renewed either is named in the hosting's e-mail."""
    announced = ServiceNotice.objects.filter(
        service=OuterRef("pk"), period_end=OuterRef("current_period_end"), kind=notices.END_ANNOUNCED
    )
    return (
        _ending_within(today)
        .filter(auto_renew=False)
        .exclude(parent__isnull=False, parent__auto_renew=False)
        .exclude(Exists(announced))
    )


def _groups(queryset) -> list[list[int]]:
    """Service ids grouped by customer and period end: renewals due the same day share one invoice."""
    rows = queryset.order_by("customer_id", "current_period_end", "pk").values_list(
        "pk", "customer_id", "current_period_end"
    )
    return [[pk for pk, *_ in group] for _key, group in itertools.groupby(rows, key=lambda row: row[1:])]


def issue_renewal_invoices(*, today: datetime.date, now: datetime.datetime | None = None, dry_run: bool = False) -> Run:
    """Issue the renewal invoice of each service due (one per customer and end date), and tell the
    customers who turned auto-renew off when their service ends. Never two invoices for one period.

    A batch of groups locks and reads its services in two queries and issues its invoices at once
    (``invoices.issue_many``: the numbers are one block of the counter, gap-free since the batch
    commits or rolls back whole), so a batch costs a fixed number of queries however many rows."""
    now = now or timezone.now()

    def invoice_batch(groups: list[list[int]]) -> list[str]:
        for _group in groups:
            notices.pace()
        pks = [pk for group in groups for pk in group]
        _lock(pks)
        services = _read(pks, due_for_invoice(today))  # what a concurrent worker invoiced meanwhile is gone
        outcomes = ["already invoiced"] * (len(pks) - len(services))
        orders, rank = [], {pk: position for position, pk in enumerate(services)}
        for group in groups:  # an invoice's lines in the services' usual order (kind, name)
            found = sorted((services[pk] for pk in group if pk in services), key=lambda service: rank[service.pk])
            if found:
                orders.append((found[0].customer, [renewal_line(service) for service in found]))
        issued = invoices.issue_many(orders=orders, today=today)
        recipients = notices.Recipients({customer for customer, _lines in orders})
        notes = []
        for created, lines in issued:
            notices.send_invoice(created, lines=lines, recipients=recipients)
            notes += [_invoice_note(line, number=created.number, now=now, save=False) for line in lines]
        ServiceEvent.objects.bulk_create(notes)
        return outcomes + ["invoices issued"] * len(issued) + ["renewals invoiced"] * len(notes)

    def invoice(pks: list[int]) -> None:
        notices.pace()
        _lock(pks)
        services = list(due_for_invoice(today).filter(pk__in=pks).select_related("plan", "customer"))
        if len(services) < len(pks):
            run.count("already invoiced", len(pks) - len(services))
        if not services:
            return
        issued, taken = issue_lines(
            customer=services[0].customer, lines=[renewal_line(s) for s in services], today=today
        )
        for created in issued:
            for line in created.lines.all():
                _invoice_note(line, number=created.number, now=now)
        run.count("invoices issued", len(issued))
        run.count("renewals invoiced", len(services) - taken)
        if taken:
            run.count("already invoiced", taken)

    def announce_batch(items: list[Service]) -> list[str]:
        for _item in items:
            notices.pace()
        pks = [item.pk for item in items]
        _lock(pks)
        found = _read(pks, due_for_end_announcement(today))  # what was announced meanwhile is gone
        services = [found[pk] for pk in pks if pk in found]
        keys = [(service.pk, service.current_period_end, notices.END_ANNOUNCED) for service in services]
        _claim_all(keys, now=now)  # the re-read left out the ones announced already
        addons = _active_addons(services)
        recipients = notices.Recipients({service.customer for service in services})
        for service in services:
            notices.send_end_announced(service, addons=addons[service.pk], recipients=recipients)
        ServiceEvent.objects.bulk_create(_end_note(service, now=now, save=False) for service in services)
        return ["end announced"] * len(services)

    def announce(service: Service) -> str | None:
        notices.pace()
        _lock([service.pk])
        service = due_for_end_announcement(today).select_related("plan", "customer").filter(pk=service.pk).first()
        if service is None:
            return None
        if not notices.claim_service_notice(
            service=service, period_end=service.current_period_end, kind=notices.END_ANNOUNCED, now=now
        ):
            return "already announced"
        addons = list(service.addons.filter(status=Status.ACTIVE).select_related("plan"))
        notices.send_end_announced(service, addons=addons)
        _end_note(service, now=now)
        return "end announced"

    with recorded("issue_renewal_invoices", for_date=today, dry_run=dry_run) as run:
        run.each_batch(_groups(due_for_invoice(today)), batch=invoice_batch, item=invoice)
        ending = due_for_end_announcement(today).select_related("plan").order_by("current_period_end", "pk")
        run.each_batch(ending, batch=announce_batch, item=announce)
    return run


# 2. Extending prepaid periods


def _renew_at_registry(service: Service, *, start: datetime.date, end: datetime.date, now: datetime.datetime) -> None:
    """Art. 4.4.2: we renew the domain at the registry; the manual backend leaves it to staff, who are told."""
    from services.registry import get_registry

    years = max(1, relativedelta(end, start).years)
    if not get_registry().renew(service, years) and notices.claim_service_notice(
        service=service, period_end=end, kind=notices.REGISTRY_RENEWAL, now=now
    ):
        notices.send_registry_renewal_to_staff(service, years=years, start=start, end=end)


@transaction.atomic
def extend_period(
    *, line: InvoiceLine, now: datetime.datetime, by: User | None = None, dry_run: bool = False
) -> str | None:
    """Apply a paid renewal line: the service's period runs on to ``line.period_end``, from the old end.

    Exactly once: the update only matches while the period still ends where the line starts. A
    service that is no longer active (expired before the payment arrived) is not revived: staff are
    told once and decide. Returns ``EXTENDED``, ``PAID_AFTER_EXPIRY`` or None (nothing to do).
    ``dry_run``: the caller rolls back; nothing is asked of the registry either."""
    if line.service_id is None or line.period_start is None or line.period_end is None:
        return None
    if line.invoice.status != Invoice.Status.PAID:
        return None
    extended = Service.objects.filter(
        pk=line.service_id, status=Status.ACTIVE, current_period_end=line.period_start
    ).update(current_period_end=line.period_end)
    service = Service.objects.select_related("plan", "customer").get(pk=line.service_id)
    if extended:
        lifecycle.record_period(service=service, start=line.period_start, end=line.period_end, by=by, now=now)
        audit.record(
            "service.renewed", actor=by, customer=service.customer, obj=service, invoice=line.invoice.number,
            start=line.period_start.isoformat(), end=line.period_end.isoformat(),
        )  # fmt: skip
        if service.plan.kind == Kind.DOMAIN and not dry_run:
            _renew_at_registry(service, start=line.period_start, end=line.period_end, now=now)
        return EXTENDED
    if service.status == Status.ACTIVE or service.current_period_end != line.period_start:
        return None  # extended before (a second run, a payment imported twice)
    if notices.has_notice(service, period_end=line.period_start, kind=notices.LATE_PAYMENT_REFUNDED):
        return None
    if notices.claim_service_notice(
        service=service, period_end=line.period_start, kind=notices.PAID_AFTER_EXPIRY, now=now
    ):
        _note(service, _("Renewal invoice %(number)s paid after the service stopped: our staff reactivate it or "
                         "refund the payment.") % {"number": line.invoice.number}, by=by, now=now)  # fmt: skip
        audit.record("service.paid_after_expiry", actor=by, customer=service.customer, obj=service,
                     invoice=line.invoice.number)  # fmt: skip
        notices.send_paid_after_expiry_to_staff(service, line)
    return PAID_AFTER_EXPIRY


def on_invoice_paid(invoice: Invoice) -> None:
    """``billing.payments.PAID_HOOKS``: a renewal extends its period as soon as its invoice is paid.
    Never stops the payment: a line that fails is logged and ``extend_prepaid_periods`` catches up."""
    now = timezone.now()
    lines = invoice.lines.filter(service__isnull=False, period_start__isnull=False, period_end__isnull=False)
    for line in lines:
        line.invoice = invoice
        try:
            with transaction.atomic():
                extend_period(line=line, now=now)
        except Exception:  # the payment must be recorded whatever happens to its effects
            logger.exception("Extending the period paid by invoice line %s failed", line.pk)


def paid_not_extended():
    """Paid renewal lines whose service's period still ends where the line starts."""
    refunded = ServiceNotice.objects.filter(
        service=OuterRef("service"), period_end=OuterRef("period_start"), kind=notices.LATE_PAYMENT_REFUNDED
    )
    return (
        InvoiceLine.objects.filter(
            invoice__status=Invoice.Status.PAID,
            service__isnull=False,
            period_end__isnull=False,
            service__current_period_end=F("period_start"),
        )
        .exclude(Exists(refunded))
        .select_related("invoice")
        .order_by("period_start", "pk")
    )


def extend_prepaid_periods(*, now: datetime.datetime, dry_run: bool = False) -> Run:
    """Extend every paid period not extended yet (the PAID hook does it at once; this catches up)."""

    def extend(line: InvoiceLine) -> str | None:
        notices.pace()
        return extend_period(line=line, now=now, dry_run=dry_run)

    with recorded("extend_prepaid_periods", for_date=now, dry_run=dry_run) as run:
        run.each(paid_not_extended(), extend)
    return run


# 3. Expiry of unpaid periods (art. 3.4.1, 4.4.2), with reminders before


def expiry_status(service: Service) -> str:
    """What a service becomes when its period ends unrenewed: a domain is released and a certificate
    has expired (EXPIRED); a hosting or add-on left unpaid is suspended (staff may still reactivate it
    after a late payment), one whose customer turned auto-renew off ends."""
    if service.plan.kind in (Kind.DOMAIN, Kind.SSL_CERTIFICATE):
        return Status.EXPIRED
    return Status.SUSPENDED if service.auto_renew else Status.ENDED


def _reminder_lines(today: datetime.date):
    until = today + datetime.timedelta(days=max(settings.RENEWAL_REMINDER_DAYS, default=0))
    return InvoiceLine.objects.filter(
        invoice__status=Invoice.Status.ISSUED, service__status=Status.ACTIVE,
        service__current_period_end=F("period_start"), period_start__gte=today, period_start__lte=until,
    )  # fmt: skip


def _paid_line(service: Service) -> InvoiceLine | None:
    return (
        InvoiceLine.objects.filter(
            service=service, period_start=service.current_period_end, invoice__status=Invoice.Status.PAID
        )
        .select_related("invoice")
        .first()
    )


OUTCOMES = {Status.SUSPENDED: "suspended", Status.EXPIRED: "expired", Status.ENDED: "ended (not renewed)"}


def _has_ended(service: Service, today: datetime.date) -> bool:
    return (
        service.status == Status.ACTIVE
        and service.current_period_end is not None
        and service.current_period_end < today
    )


def _why(service: Service, end: datetime.date) -> str:
    if service.auto_renew:
        why = _("The period ending on %(end)s was not renewed: its renewal invoice is unpaid.")
    else:
        why = _("The period ending on %(end)s was not renewed: automatic renewal was off.")
    return why % {"end": end}


def _renewals_of_ended(services) -> dict[int, InvoiceLine]:
    """The renewal line (with its invoice) of the period that ended, by service, in one query."""
    lines = InvoiceLine.objects.filter(service__in=list(services), period_start=F("service__current_period_end"))
    return {line.service_id: line for line in lines.select_related("invoice")}


def expire_unpaid(*, today: datetime.date, now: datetime.datetime | None = None, dry_run: bool = False) -> Run:
    """Remind the customer of an unpaid renewal invoice ``RENEWAL_REMINDER_DAYS`` before the end (once
    per threshold, the nearest only after a missed day), then expire what ended unpaid the day before
    and tell the customer once.

    A batch of invoices to remind, or of services to expire, is read, claimed and written in a fixed
    number of queries (``lifecycle.stop_many`` for the status changes). Only a renewal paid whose
    extension has not run yet is extended service by service (``extend_period``), as it may ask the
    registry."""
    now = now or timezone.now()
    thresholds = list(settings.RENEWAL_REMINDER_DAYS)

    def remind_batch(invoice_pks: list[int]) -> list[str]:
        for _pk in invoice_pks:
            notices.pace()
        lines = _reminder_lines(today).filter(invoice__in=invoice_pks).select_related("service__plan").order_by("pk")
        due = []
        for line in lines:
            threshold = notices.nearest_threshold((line.period_start - today).days, thresholds)
            if threshold is not None:
                due.append(((line.service_id, line.period_start, notices.reminder_kind(threshold)), line))
        sent = _notices_sent([key for key, _line in due], {key[2] for key, _line in due})
        due = [(key, line) for key, line in due if key not in sent]
        _claim_all([key for key, _line in due], now=now)
        reminded: dict[int, list[InvoiceLine]] = {}
        for _key, line in due:
            reminded.setdefault(line.invoice_id, []).append(line)
        found = Invoice.objects.select_related("customer").in_bulk(list(reminded))
        recipients = notices.Recipients({invoice.customer for invoice in found.values()})
        for pk, lines in reminded.items():
            days = min((line.period_start - today).days for line in lines)
            services = [line.service for line in lines]
            notices.send_reminder(found[pk], services, days_left=days, recipients=recipients)
        return ["reminders sent"] * len(reminded)

    def remind(invoice_pk: int) -> str | None:
        notices.pace()
        invoice = Invoice.objects.select_related("customer").get(pk=invoice_pk)
        reminded, days = [], None
        for line in _reminder_lines(today).filter(invoice=invoice).select_related("service__plan"):
            days_left = (line.period_start - today).days
            threshold = notices.nearest_threshold(days_left, thresholds)
            if threshold is not None and notices.claim_service_notice(
                service=line.service, period_end=line.period_start, kind=notices.reminder_kind(threshold), now=now
            ):
                reminded.append(line.service)
                days = days_left if days is None else min(days, days_left)
        if not reminded:
            return None
        notices.send_reminder(invoice, reminded, days_left=days)
        return "reminders sent"

    def expire_batch(items: list[Service]) -> list[str | None]:
        for _item in items:
            notices.pace()
        pks = [item.pk for item in items]
        _lock(pks)
        found = _read(pks)
        ended = [found[pk] for pk in pks if pk in found and _has_ended(found[pk], today)]
        renewal_of = _renewals_of_ended(ended)
        outcomes, stopping = [], {}
        for service in ended:  # hostings before their add-ons (the order of the items)
            line = renewal_of.get(service.pk)
            if service.parent_id in stopping:
                continue  # it ends with its hosting, stopped in this batch, and is then left alone
            if line is not None and line.invoice.status == Invoice.Status.PAID:  # the extension has not run yet
                outcomes.append(extend_period(line=line, now=now, dry_run=dry_run))
            else:
                stopping[service.pk] = service
        ends = {pk: service.current_period_end for pk, service in stopping.items()}
        statuses = {pk: expiry_status(service) for pk, service in stopping.items()}
        addons = _active_addons(stopping.values())  # named in the e-mail: read before they end
        lifecycle.stop_many(changes=[(stopping[pk], status) for pk, status in statuses.items()], by=None, now=now)
        ServiceEvent.objects.bulk_create(
            _note(service, _why(service, ends[pk]), by=None, now=now, save=False) for pk, service in stopping.items()
        )
        # A certificate's customer was warned by the expiry notices (art. 5.2.2): no e-mail after.
        keys = {(pk, ends[pk], notices.EXPIRED): s for pk, s in stopping.items() if s.plan.kind != Kind.SSL_CERTIFICATE}
        sent = _notices_sent(keys, [notices.EXPIRED])
        told = {key: service for key, service in keys.items() if key not in sent}
        _claim_all(told, now=now)
        recipients = notices.Recipients({service.customer for service in told.values()})
        for service in told.values():
            line = renewal_of.get(service.pk)
            unpaid = line.invoice if line is not None and line.invoice.status == Invoice.Status.ISSUED else None
            notices.send_expired(service, invoice=unpaid, addons=addons[service.pk], recipients=recipients)
        return outcomes + [OUTCOMES[status] for status in statuses.values()]

    def expire(service: Service) -> str | None:
        notices.pace()
        _lock([service.pk])
        service = Service.objects.select_related("plan", "customer").get(pk=service.pk)
        if not _has_ended(service, today):
            return None
        paid = _paid_line(service)
        if paid is not None:  # paid, but the extension has not run yet
            return extend_period(line=paid, now=now, dry_run=dry_run)
        end = service.current_period_end
        status = expiry_status(service)
        addons = list(service.addons.filter(status=Status.ACTIVE).select_related("plan"))
        lifecycle.set_status(service=service, status=status, by=None, now=now)
        _note(service, _why(service, end), by=None, now=now)
        if service.plan.kind != Kind.SSL_CERTIFICATE and notices.claim_service_notice(
            service=service, period_end=end, kind=notices.EXPIRED, now=now
        ):  # a certificate's customer was warned by the expiry notices (art. 5.2.2)
            unpaid = InvoiceLine.objects.filter(
                service=service, period_start=end, invoice__status=Invoice.Status.ISSUED
            ).select_related("invoice").first()  # fmt: skip
            notices.send_expired(service, invoice=unpaid.invoice if unpaid else None, addons=addons)
        return OUTCOMES[status]

    with recorded("expire_unpaid", for_date=today, dry_run=dry_run) as run:
        invoice_pks = _reminder_lines(today).order_by("invoice_id").values_list("invoice_id", flat=True).distinct()
        run.each_batch(list(invoice_pks), batch=remind_batch, item=remind)
        # Hostings before their add-ons: an add-on ends with its hosting and is then left alone.
        ended = (
            Service.objects.filter(status=Status.ACTIVE, current_period_end__lt=today)
            .exclude(plan__kind=Kind.M365_PACK)
            .select_related("plan")
            .order_by(F("parent").asc(nulls_first=True), "current_period_end", "pk")
        )
        run.each_batch(ended, batch=expire_batch, item=expire)
    return run


# A renewal paid after expiry: staff decide


def late_payment(service: Service) -> InvoiceLine | None:
    """The paid renewal of a service that stopped before the payment arrived, while staff have not
    decided yet (reactivate or refund)."""
    if service.status == Status.ACTIVE or service.current_period_end is None:
        return None
    line = _paid_line(service)
    if line is None or notices.has_notice(service, period_end=line.period_start, kind=notices.LATE_PAYMENT_REFUNDED):
        return None
    return line


def _locked_late_payment(service: Service) -> tuple[Service, InvoiceLine]:
    _lock([service.pk])
    locked = Service.objects.select_related("plan", "customer", "parent").get(pk=service.pk)
    line = late_payment(locked)
    if line is None:
        raise ValidationError(_("%(name)s has no renewal paid after it stopped.") % {"name": locked.name})
    return locked, line


@transaction.atomic
def reactivate_after_late_payment(
    *, service: Service, by: User, now: datetime.datetime | None = None, today: datetime.date | None = None
) -> Service:
    """Staff accept a renewal paid after expiry: the service is active again and its period runs from
    the old end (not from the payment or this decision) to the paid end."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    locked, line = _locked_late_payment(service)
    if line.period_end <= today:
        raise ValidationError(
            _("The period paid for %(name)s ended on %(end)s: refund the payment instead.")
            % {"name": locked.name, "end": line.period_end}
        )
    lifecycle.set_status(service=locked, status=Status.ACTIVE, by=by, now=now)  # refuses an add-on without hosting
    extended = Service.objects.filter(pk=locked.pk, current_period_end=line.period_start)
    extended.update(current_period_end=line.period_end)
    locked.current_period_end = service.current_period_end = line.period_end
    service.status = locked.status
    lifecycle.record_period(service=locked, start=line.period_start, end=line.period_end, by=by, now=now)
    notices.claim_service_notice(
        service=locked, period_end=line.period_start, kind=notices.LATE_PAYMENT_REACTIVATED, now=now
    )
    _note(locked, _("Reactivated by our staff after the late payment of invoice %(number)s.") % {
        "number": line.invoice.number}, by=by, now=now)  # fmt: skip
    audit.record("service.reactivated_after_late_payment", actor=by, customer=locked.customer, obj=locked,
                 invoice=line.invoice.number, end=line.period_end.isoformat())  # fmt: skip
    if locked.plan.kind == Kind.DOMAIN:
        _renew_at_registry(locked, start=line.period_start, end=line.period_end, now=now)
    notices.send_late_payment_decision(locked, line, reactivated=True)
    return locked


@transaction.atomic
def refund_late_payment(*, service: Service, by: User, now: datetime.datetime | None = None) -> InvoiceLine:
    """Staff refuse a renewal paid after expiry: the service stays stopped, the customer is told the
    payment is refunded (the transfer itself is made from the bank)."""
    now = now or timezone.now()
    locked, line = _locked_late_payment(service)
    notices.claim_service_notice(
        service=locked, period_end=line.period_start, kind=notices.LATE_PAYMENT_REFUNDED, now=now
    )
    _note(locked, _("Invoice %(number)s, paid after the service stopped, is refunded.") % {
        "number": line.invoice.number}, by=by, now=now)  # fmt: skip
    audit.record("service.late_payment_refunded", actor=by, customer=locked.customer, obj=locked,
                 invoice=line.invoice.number, amount=str(line.amount))  # fmt: skip
    notices.send_late_payment_decision(locked, line, reactivated=False)
    return line


def renewal_state(service: Service) -> dict:
    """What the service page says about the next period: its renewal invoice awaiting payment, or a
    renewal paid after the service stopped (staff decide) or refunded. Two queries at most."""
    if service.current_period_end is None:
        return {}
    line = (
        InvoiceLine.objects.filter(service=service, period_start=service.current_period_end)
        .select_related("invoice")
        .first()
    )
    if line is None:
        return {}
    if service.status == Status.ACTIVE:
        return {"unpaid": line} if line.invoice.status == Invoice.Status.ISSUED else {}
    if line.invoice.status != Invoice.Status.PAID:
        return {}
    if notices.has_notice(service, period_end=line.period_start, kind=notices.LATE_PAYMENT_REFUNDED):
        return {"refunded": line}
    return {"late_payment": line}


# 5. Microsoft 365: monthly billing of the licences in force (art. 6.1.5, 6.1.6, 6.3.3)


def month_of(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    start = day.replace(day=1)
    return start, start + relativedelta(months=1)


def licences_on(service: Service, instant: datetime.datetime) -> int:
    """The licences in force at ``instant``: today's, minus the changes made since."""
    since = service.licence_changes.filter(created_at__gte=instant).aggregate(total=Sum("delta"))["total"] or 0
    return max(service.quantity - since, 0)


def m365_due(today: datetime.date):
    """Active packs not billed for this month yet. The month a pack starts in is paid by its order's
    first invoice, so billing starts with the first month that begins after the start."""
    start, _end = month_of(today)
    billed = InvoiceLine.objects.filter(service=OuterRef("pk"), period_start=start)
    return (
        Service.objects.filter(plan__kind=Kind.M365_PACK, status=Status.ACTIVE, quantity__gt=0)
        .filter(Q(started_on__isnull=True) | Q(started_on__lt=start))
        .exclude(Exists(billed))
    )


def bill_m365_licences(*, today: datetime.date, now: datetime.datetime | None = None, dry_run: bool = False) -> Run:
    """Bill each active pack for the month of ``today``: one line ``[first of the month, first of the
    next)`` with the licences in force and the unit price in force on the month's first day (art.
    6.1.6), one invoice per customer. A pack left without licences ends (art. 6.3.3)."""
    from services import m365  # Microsoft 365 rules: price_in_force, and ending a pack

    now = now or timezone.now()
    start, end = month_of(today)
    first_instant = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))

    def end_empty(service: Service) -> str | None:
        notices.pace()
        _lock([service.pk])
        service = Service.objects.select_related("plan", "customer").get(pk=service.pk)
        if service.status != Status.ACTIVE or service.quantity:
            return None
        if dry_run:  # ending tells Microsoft, which no rollback undoes
            return "ended (no licence left)"
        m365._end(service, by=None, now=now, change=None, note=m365.LAST_LICENCE_CANCELLED)
        return "ended (no licence left)"

    def bill(pks: list[int]) -> None:
        notices.pace()
        _lock(pks)
        due = m365_due(today).filter(pk__in=pks).select_related("plan", "customer")
        packs = list(due.prefetch_related("plan__price_changes"))
        lines = []
        for pack in packs:
            quantity = licences_on(pack, first_instant)
            if not quantity:
                run.count("no licence on the first day")
                continue
            with translation.override(pack.customer.preferred_language):
                description = _("%(plan)s — %(name)s: licences for %(month)s") % {
                    "plan": pack.plan.name,
                    "name": pack.name,
                    "month": start.strftime("%Y-%m"),
                }
            lines.append(Line(
                description=description[:255], unit_price=m365.price_in_force(pack.plan, start), quantity=quantity,
                service=pack, period_start=start, period_end=end,
            ))  # fmt: skip
        if len(packs) < len(pks):
            run.count("already billed", len(pks) - len(packs))
        if not lines:
            return
        issued, taken = issue_lines(customer=packs[0].customer, lines=lines, today=today)
        run.count("invoices issued", len(issued))
        run.count("packs billed", len(lines) - taken)
        if taken:
            run.count("already billed", taken)

    with recorded("bill_m365_licences", for_date=today, dry_run=dry_run) as run:
        empty = Service.objects.filter(plan__kind=Kind.M365_PACK, status=Status.ACTIVE, quantity=0).order_by("pk")
        run.each(empty, end_empty)
        run.each(_groups(m365_due(today)), bill)
    return run


# For ops: what each job does today


def jobs_for(*, today: datetime.date, now: datetime.datetime):
    """(name, callable taking ``dry_run``) for every job, in the order beat runs them each night."""
    return [
        ("extend_prepaid_periods", lambda dry_run: extend_prepaid_periods(now=now, dry_run=dry_run)),
        ("expire_unpaid", lambda dry_run: expire_unpaid(today=today, now=now, dry_run=dry_run)),
        ("issue_renewal_invoices", lambda dry_run: issue_renewal_invoices(today=today, now=now, dry_run=dry_run)),
        (
            "send_certificate_expiry_notices",
            lambda dry_run: notices.send_certificate_expiry_notices(today=today, now=now, dry_run=dry_run),
        ),
        ("bill_m365_licences", lambda dry_run: bill_m365_licences(today=today, now=now, dry_run=dry_run)),
    ]
