import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer
from services.models import Service
from support import catalogue


class ServiceGroup(models.TextChoices):
    HOSTING = catalogue.HOSTING, _("Shared web hosting")
    DOMAINS = catalogue.DOMAINS, _("Domain names")
    M365 = catalogue.M365, _("Microsoft 365")
    SSL = catalogue.SSL, _("SSL certificates")


class Kind(models.TextChoices):
    INCIDENT = catalogue.INCIDENT, _("Incident")
    CHANGE = catalogue.CHANGE, _("Change request")
    INFORMATION = catalogue.INFORMATION, _("Information request")


class Priority(models.TextChoices):
    STANDARD = "standard", _("Standard")
    EXPRESS = "express", _("Express")


class Unit(models.TextChoices):
    FREE = catalogue.FREE, _("Free")
    PER_QUARTER_HOUR = catalogue.PER_QUARTER_HOUR, _("Per started 15 minutes")
    PER_INTERVENTION = catalogue.PER_INTERVENTION, _("Per intervention")
    ON_QUOTE = catalogue.ON_QUOTE, _("On quote")


class InterventionTypeQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def for_service_kind(self, service_kind: str):
        groups = [g for g, kinds in catalogue.GROUP_SERVICE_KINDS.items() if service_kind in kinds]
        return self.filter(service_group__in=groups)


class InterventionType(models.Model):
    """A row of annex 1 (or one staff added): the reason of a ticket and its price in credits."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    service_group = models.CharField(_("service"), max_length=16, choices=ServiceGroup.choices)
    name_fr = models.CharField(_("name in the contract (French)"), max_length=400)
    label = models.CharField(
        _("label (English)"), max_length=200, help_text=_("Translated through the catalogues when it is in them.")
    )
    kind = models.CharField(_("request kind"), max_length=16, choices=Kind.choices)
    unit = models.CharField(_("unit"), max_length=20, choices=Unit.choices)
    standard_credits = models.PositiveSmallIntegerField(_("credits at Standard priority"), default=0)
    express_credits = models.PositiveSmallIntegerField(_("credits at Express priority"), default=0)
    response_time_applies = models.BooleanField(
        _("response times apply"), default=True, help_text=_("Off for the rows marked ¹ in annex 1.")
    )
    is_active = models.BooleanField(
        _("offered"), default=True, help_text=_("A retired entry is no longer offered but stays on its tickets.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    objects = InterventionTypeQuerySet.as_manager()

    class Meta:
        verbose_name = _("intervention type")
        verbose_name_plural = _("intervention types (annex 1)")
        ordering = ["service_group", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.get_service_group_display()} — {self.display_label}"

    @property
    def display_label(self) -> str:
        return gettext(self.label)

    def credits_for(self, priority: str) -> int:
        return self.express_credits if priority == Priority.EXPRESS else self.standard_credits

    def price_text(self, priority: str) -> str:
        """What the customer reads before sending: "3 credits per started 15 minutes", "free", "on quote"."""
        credits = self.credits_for(priority)
        if self.unit == Unit.ON_QUOTE:
            return gettext("on quote: you accept the price before any work starts")
        if self.unit == Unit.FREE or credits == 0:
            return gettext("free")
        if self.unit == Unit.PER_QUARTER_HOUR:
            return ngettext(
                "%(credits)d credit per started 15 minutes", "%(credits)d credits per started 15 minutes", credits
            ) % {"credits": credits}
        return ngettext("%(credits)d credit per intervention", "%(credits)d credits per intervention", credits) % {
            "credits": credits
        }


class Status(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting for your reply")
    AWAITING_CREDITS = "awaiting_credits", _("Awaiting credits")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = [Status.NEW, Status.IN_PROGRESS, Status.WAITING_ON_CUSTOMER, Status.AWAITING_CREDITS]


class TicketCounter(models.Model):
    """The last ticket number given out per year: numbers are human and never reused."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class TicketQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def awaiting_response(self):
        return self.open().filter(first_response_at__isnull=True, response_deadline__isnull=False)


class Ticket(models.Model):
    """A request for an intervention (art. 7.2): reason, priority, status and the response clock."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="tickets")
    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets"
    )
    reason = models.ForeignKey(
        InterventionType, verbose_name=_("reason"), on_delete=models.PROTECT, related_name="tickets"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices, default=Priority.STANDARD)
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.NEW)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.SET_NULL, null=True,
        related_name="+",
    )  # fmt: skip
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="assigned_tickets", limit_choices_to={"is_staff": True},
    )  # fmt: skip
    logged_at = models.DateTimeField(_("logged at"), default=timezone.now, db_index=True)
    response_deadline = models.DateTimeField(_("response due"), null=True, blank=True, db_index=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    responded_in_time = models.BooleanField(_("responded in time"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-logged_at", "-pk"]
        indexes = [
            models.Index(fields=["customer", "-logged_at"]),
            models.Index(fields=["status", "response_deadline"]),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("ticket_detail", args=[self.number])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def response_state(self, now: datetime.datetime | None = None) -> str:
        """ "none" (no response time applies), "met" or "late" once answered, "due" or "overdue" before."""
        from support import sla

        if self.response_deadline is None:
            return "none"
        if self.first_response_at is not None:
            return "met" if self.responded_in_time else "late"
        if self.response_deadline < sla.last_working_instant(now or timezone.now()):
            return "overdue"
        return "due"

    def working_time_left(self, now: datetime.datetime | None = None) -> datetime.timedelta | None:
        """Working time until the deadline (negative once passed); none when answered or without target."""
        from support import sla

        if self.response_deadline is None or self.first_response_at is not None:
            return None
        now = now or timezone.now()
        if now <= self.response_deadline:
            return sla.working_time_between(now, self.response_deadline)
        return -sla.working_time_between(self.response_deadline, now)

    def can_reopen(self, now: datetime.datetime | None = None) -> bool:
        """A closed ticket can be reopened by the customer within the reopen window (14 days)."""
        if self.status != Status.CLOSED or self.closed_at is None:
            return False
        window = datetime.timedelta(days=settings.SUPPORT_REOPEN_DAYS)
        return (now or timezone.now()) <= self.closed_at + window


class Remark(models.Model):
    """One message of a ticket's thread: the customer's remarks, staff replies and internal notes."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="remarks")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(_("message"))
    by_staff = models.BooleanField(_("from staff"), default=False)
    is_internal = models.BooleanField(
        _("internal note"), default=False, help_text=_("Internal notes are seen by staff only.")
    )
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        verbose_name = _("remark")
        verbose_name_plural = _("thread")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.ticket.number} · {self.created_at:%Y-%m-%d %H:%M}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    # Outside the static root, under a folder per ticket; served only through the portal's view.
    # The stored name is random (the customer's name is kept in original_name, for display only).
    from support.attachments import stored_name

    return f"tickets/{instance.ticket.number}/{stored_name(filename)}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    remark = models.ForeignKey(Remark, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    original_name = models.CharField(_("name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    CUSTOMER_PATH = "ticket__customer"

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.original_name

    def get_absolute_url(self) -> str:
        return reverse("ticket_attachment", args=[self.ticket.number, self.pk])


class TicketEvent(models.Model):
    """The ticket's history: who changed priority, reason, status, assignee or access, and when."""

    class Field(models.TextChoices):
        OPENED = "opened", _("Opened")
        PRIORITY = "priority", _("Priority")
        REASON = "reason", _("Reason")
        STATUS = "status", _("Status")
        ASSIGNEE = "assignee", _("Assignee")
        FIRST_RESPONSE = "first_response", _("First response")
        STAFF_ACCESS = "staff_access", _("Staff access")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    field = models.CharField(_("what"), max_length=20, choices=Field.choices)
    old_value = models.CharField(_("before"), max_length=200, blank=True)
    new_value = models.CharField(_("after"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("history")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.ticket.number} {self.field}: {self.old_value} → {self.new_value}"


class StaffAccessGrant(models.Model):
    """Art. 7.3: the customer lets staff into its configuration, for one ticket or until a date."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="staff_access_grants")
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, null=True, blank=True,
        related_name="access_grants",
    )  # fmt: skip
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    granted_at = models.DateTimeField(_("granted"), default=timezone.now)
    expires_at = models.DateTimeField(_("until"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("staff access grant")
        verbose_name_plural = _("staff access grants")
        ordering = ["-granted_at"]

    def __str__(self) -> str:
        scope = self.ticket.number if self.ticket_id else gettext("all tickets")
        return f"{self.customer} → {scope}"

    def is_active(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class DeadlineWarning(models.Model):
    """A warning sent to staff about a response deadline; one per ticket and kind, by constraint."""

    class Level(models.TextChoices):
        AT_RISK = "at_risk", _("Less than one working hour left")
        BREACHED = "breached", _("Deadline passed")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="deadline_warnings")
    level = models.CharField(max_length=16, choices=Level.choices)
    deadline = models.DateTimeField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "level", "deadline"], name="one_warning_per_ticket_level_deadline"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.level} {self.deadline:%Y-%m-%d %H:%M}"


class TimeEntry(models.Model):
    """Time staff spent on a ticket, charged in credits as annex 1 prices the ticket's reason."""

    class Charge(models.TextChoices):
        CHARGED = "charged", _("Charged")
        NOT_CHARGED = "not_charged", _("Nothing to charge")
        AWAITING_CREDITS = "awaiting_credits", _("Awaiting credits")
        ON_QUOTE = "on_quote", _("Covered by a quote")

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="time_entries")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    minutes = models.PositiveIntegerField(_("minutes"))
    note = models.CharField(_("note"), max_length=255, blank=True)
    credits = models.PositiveIntegerField(_("credits"), default=0)
    charge = models.CharField(_("charge"), max_length=20, choices=Charge.choices)
    created_at = models.DateTimeField(_("logged"), default=timezone.now)

    CUSTOMER_PATH = "ticket__customer"

    class Meta:
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        ordering = ["created_at", "pk"]
        constraints = [models.CheckConstraint(condition=models.Q(minutes__gt=0), name="time_entry_minutes_positive")]

    def __str__(self) -> str:
        return f"{self.ticket.number}: {self.minutes} min"


class Quote(models.Model):
    """Art. 7.4: credits agreed with the customer for work annex 1 does not price."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Awaiting your answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        AWAITING_CREDITS = "awaiting_credits", _("Accepted, awaiting credits")

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="quotes")
    credits = models.PositiveIntegerField(_("credits"))
    description = models.TextField(_("work covered"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(_("proposed"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    CUSTOMER_PATH = "ticket__customer"

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["proposed_at", "pk"]
        constraints = [models.CheckConstraint(condition=models.Q(credits__gt=0), name="quote_credits_positive")]

    def __str__(self) -> str:
        return f"{self.ticket.number}: {self.credits} credits"
