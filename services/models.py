import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer


class Kind(models.TextChoices):
    SHARED_HOSTING = "shared_hosting", _("Shared web hosting")
    CMS_HOSTING = "cms_hosting", _("CMS web hosting")
    MANAGED_CMS = "managed_cms", _("Managed CMS web hosting")
    CACHING = "caching", _("Caching")
    DOMAIN = "domain", _("Domain name")
    SSL_CERTIFICATE = "ssl_certificate", _("SSL certificate")
    M365_PACK = "m365_pack", _("Microsoft 365 pack")


# Add-ons need an active shared hosting of the same customer (art. 3.2.3, 3.3.2).
ADDON_KINDS = {Kind.CMS_HOSTING, Kind.MANAGED_CMS, Kind.CACHING}


SPECIFICATION_LABELS = {
    "disk_gb": _("Disk space (GB)"),
    "traffic_gb": _("Monthly traffic (GB)"),
    "mailboxes": _("Mailboxes"),
    "databases": _("Databases"),
    "max_users": _("Maximum users per pack"),
    "validation": _("Validation"),
    "cms": _("CMS"),
}


class Plan(models.Model):
    """A product of the catalogue: what a customer can order, at what price, for which period."""

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    specifications = models.JSONField(
        _("specifications"), default=dict, blank=True, help_text=_('E.g. {"disk_gb": 10, "traffic_gb": 100}.')
    )
    price = models.DecimalField(
        _("price per period (excl. VAT)"), max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    period_months = models.PositiveSmallIntegerField(
        _("period (months)"), default=12, help_text=_("0 for an indefinite contract billed monthly (Microsoft 365).")
    )
    requires_kind = models.CharField(
        _("requires"), max_length=32, choices=Kind.choices, blank=True, help_text=_("The service this add-on needs.")
    )
    is_active = models.BooleanField(_("orderable"), default=True)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["kind", "price", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="unique_plan_name_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.name}"

    def clean(self) -> None:
        super().clean()
        if self.kind in ADDON_KINDS and self.requires_kind != Kind.SHARED_HOSTING:
            raise ValidationError({"requires_kind": _("CMS, managed CMS and caching require shared hosting.")})

    def specification_items(self) -> list[tuple[str, object]]:
        return [(str(SPECIFICATION_LABELS.get(key, key)), value) for key, value in self.specifications.items()]

    @property
    def is_indefinite(self) -> bool:
        return self.period_months == 0


class ServiceQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Service.Status.ACTIVE)

    def ending_within(self, *, days: int, today: datetime.date):
        return (
            self.active()
            .filter(current_period_end__isnull=False, current_period_end__lte=today + datetime.timedelta(days=days))
            .order_by("current_period_end")
        )

    def count_by_kind(self) -> list[tuple[str, str, int]]:
        """[(kind, label, count of services not ended)] in catalogue order, kinds with none left out."""
        rows = dict(
            self.exclude(status__in=[Service.Status.ENDED, Service.Status.EXPIRED])
            .values_list("plan__kind")
            .annotate(n=Count("pk"))
            .values_list("plan__kind", "n")
        )
        return [(kind.value, kind.label, rows[kind.value]) for kind in Kind if rows.get(kind.value)]


class Service(models.Model):
    """One contract: a plan bought by a customer, with its current period."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        EXPIRED = "expired", _("Expired")
        ENDED = "ended", _("Ended")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="services"
    )
    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="services")
    name = models.CharField(
        _("name"), max_length=255, help_text=_("What the customer calls it: a domain, a site, a pack.")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    started_on = models.DateField(_("start"), null=True, blank=True)
    current_period_end = models.DateField(
        _("current period ends"), null=True, blank=True, help_text=_("Empty for an indefinite contract.")
    )
    auto_renew = models.BooleanField(_("renew automatically"), default=True)
    quantity = models.PositiveIntegerField(
        _("quantity"), default=1, help_text=_("Licences in force for a Microsoft 365 pack; 1 for other services.")
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("add-on of"), on_delete=models.PROTECT, null=True, blank=True, related_name="addons"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["plan__kind", "name", "pk"]
        indexes = [models.Index(fields=["customer", "status"]), models.Index(fields=["current_period_end"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.plan.get_kind_display()})"

    def get_absolute_url(self) -> str:
        return reverse("service_detail", args=[self.pk])

    def clean(self) -> None:
        super().clean()
        if self.parent_id and self.parent.customer_id != self.customer_id:
            raise ValidationError({"parent": _("An add-on belongs to a service of the same customer.")})
        if self.plan_id and self.plan.kind in ADDON_KINDS and not self.parent_id:
            raise ValidationError({"parent": _("This add-on needs the shared hosting it belongs to.")})

    @property
    def kind(self) -> str:
        return self.plan.kind

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def days_left(self, today: datetime.date | None = None) -> int | None:
        if self.current_period_end is None:
            return None
        return (self.current_period_end - (today or timezone.localdate())).days


class ServiceEvent(models.Model):
    """A service's history: creation, status changes and periods, with who and when."""

    class Field(models.TextChoices):
        CREATED = "created", _("Created")
        STATUS = "status", _("Status")
        PERIOD = "period", _("Period")
        AUTO_RENEW = "auto_renew", _("Automatic renewal")
        NOTE = "note", _("Note")

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    field = models.CharField(_("what"), max_length=16, choices=Field.choices)
    old_value = models.CharField(_("before"), max_length=200, blank=True)
    new_value = models.CharField(_("after"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    CUSTOMER_PATH = "service__customer"

    class Meta:
        verbose_name = _("service event")
        verbose_name_plural = _("service history")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.service_id} {self.field}: {self.old_value} → {self.new_value}"


class Order(models.Model):
    """A customer's order from the catalogue; part of the contract once staff accept it (art. 2.1)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Awaiting our acceptance")
        ACCEPTED = "accepted", _("Accepted")
        REFUSED = "refused", _("Refused")
        CANCELLED = "cancelled", _("Cancelled")

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders")
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("placed by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    created_at = models.DateTimeField(_("placed"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    refusal_reason = models.TextField(_("reason of the refusal"), blank=True)
    invoice = models.ForeignKey(
        "billing.Invoice", verbose_name=_("first invoice"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="orders",
    )  # fmt: skip

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.customer}"

    def get_absolute_url(self) -> str:
        return reverse("order_detail", args=[self.pk])


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=255, help_text=_("The site, domain or pack this line is for."))
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    parent_service = models.ForeignKey(
        Service, verbose_name=_("for the hosting"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    service = models.OneToOneField(
        Service, verbose_name=_("service created"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="order_line",
    )  # fmt: skip

    CUSTOMER_PATH = "order__customer"

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.plan} — {self.name}"


class HostingUsage(models.Model):
    """Disk and traffic of a shared hosting as the hosting platform reported them."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="usage_readings")
    measured_at = models.DateTimeField(_("measured"), default=timezone.now)
    disk_mb = models.PositiveIntegerField(_("disk used (MB)"))
    traffic_mb = models.PositiveIntegerField(_("traffic this month (MB)"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    CUSTOMER_PATH = "service__customer"

    class Meta:
        verbose_name = _("hosting usage")
        verbose_name_plural = _("hosting usage")
        ordering = ["-measured_at", "-pk"]
        get_latest_by = "measured_at"

    def __str__(self) -> str:
        return f"{self.service_id} {self.measured_at:%Y-%m-%d}: {self.disk_mb} MB"


class Backup(models.Model):
    """A backup of a hosted site kept by the platform (at least 14 days, art. 3.1.5)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="backups")
    taken_at = models.DateTimeField(_("taken"))
    size_mb = models.PositiveIntegerField(_("size (MB)"), default=0)
    reference = models.CharField(_("reference"), max_length=100, help_text=_("The platform's name for it."))

    CUSTOMER_PATH = "service__customer"

    class Meta:
        verbose_name = _("backup")
        verbose_name_plural = _("backups")
        ordering = ["-taken_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["service", "reference"], name="one_backup_per_reference")]

    def __str__(self) -> str:
        return f"{self.reference} ({self.taken_at:%Y-%m-%d %H:%M})"


class CmsUpdate(models.Model):
    """Art. 3.2.2: an update or patch staff applied to a managed CMS, which the customer checks."""

    class Status(models.TextChoices):
        AWAITING_CHECK = "awaiting_check", _("Please check your site")
        CONFIRMED = "confirmed", _("Checked: the site works")
        PROBLEM = "problem", _("Problem reported")

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="cms_updates")
    applied_at = models.DateTimeField(_("applied"), default=timezone.now)
    description = models.TextField(_("what was updated"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.AWAITING_CHECK)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    problem_ticket = models.ForeignKey(
        "support.Ticket", verbose_name=_("problem ticket"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip

    CUSTOMER_PATH = "service__customer"

    class Meta:
        verbose_name = _("CMS update")
        verbose_name_plural = _("CMS updates")
        ordering = ["-applied_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.service_id} {self.applied_at:%Y-%m-%d}"


class TimelineMessage(models.Model):
    """A step of a request's timeline (domains, certificates): a state change, a question from
    the registry or CA, or the customer's answer with an optional document."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    by_staff = models.BooleanField(_("from staff"), default=False)
    body = models.TextField(_("message"), blank=True)
    old_status = models.CharField(_("before"), max_length=24, blank=True)
    new_status = models.CharField(_("after"), max_length=24, blank=True)
    document_name = models.CharField(_("document name"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    CUSTOMER_PATH = "request__customer"

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.request_id} {self.created_at:%Y-%m-%d %H:%M}"


class DomainRequest(models.Model):
    """Art. 4.2: registering, transferring or trading a domain; the registry decides."""

    class Kind(models.TextChoices):
        REGISTER = "register", _("Registration")
        TRANSFER = "transfer", _("Transfer")
        TRADE = "trade", _("Trade (change of owner)")
        DNS_HOSTING = "dns_hosting", _("DNS hosting of a domain registered elsewhere")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        PENDING_REGISTRY = "pending_registry", _("Pending at the registry")
        INFORMATION_REQUESTED = "information_requested", _("Information requested")
        COMPLETED = "completed", _("Completed")
        REJECTED = "rejected", _("Rejected")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="domain_requests"
    )
    domain = models.CharField(_("domain name"), max_length=253, help_text=_("Stored in ASCII (punycode)."))
    kind = models.CharField(_("request"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.SUBMITTED)
    years = models.PositiveSmallIntegerField(_("term (years)"), default=1)
    auth_code_encrypted = models.TextField(_("auth code (encrypted)"), blank=True, editable=False)
    new_owner = models.TextField(_("new owner's details"), blank=True, help_text=_("For a trade."))
    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.PROTECT, null=True, blank=True)
    service = models.OneToOneField(
        Service, verbose_name=_("domain service"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="domain_request",
    )  # fmt: skip
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("submitted"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("domain request")
        verbose_name_plural = _("domain requests")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.domain}"

    def get_absolute_url(self) -> str:
        return reverse("domain_request_detail", args=[self.pk])


class DomainRequestMessage(TimelineMessage):
    """The request's timeline: state changes, the registry's questions and the customer's answers."""

    request = models.ForeignKey(DomainRequest, on_delete=models.CASCADE, related_name="messages")
    document = models.FileField(_("document"), upload_to="domain-requests/%Y/%m/", blank=True, max_length=300)

    class Meta:
        verbose_name = _("domain request message")
        verbose_name_plural = _("timeline")
        ordering = ["created_at", "pk"]


class DnsZone(models.Model):
    """The DNS zone of a domain on the provider's nameservers (art. 4.3)."""

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="zone")
    name = models.CharField(_("zone"), max_length=253, unique=True, help_text=_("ASCII (punycode), no final dot."))
    serial = models.PositiveBigIntegerField(_("serial"), help_text=_("YYYYMMDDnn, bumped on each change."))
    default_ttl = models.PositiveIntegerField(_("default TTL"), default=3600)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    CUSTOMER_PATH = "service__customer"

    class Meta:
        verbose_name = _("DNS zone")
        verbose_name_plural = _("DNS zones")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DnsRecord(models.Model):
    class Type(models.TextChoices):
        A = "A", "A"
        AAAA = "AAAA", "AAAA"
        CNAME = "CNAME", "CNAME"
        MX = "MX", "MX"
        TXT = "TXT", "TXT"
        SRV = "SRV", "SRV"
        CAA = "CAA", "CAA"
        NS = "NS", "NS"

    zone = models.ForeignKey(DnsZone, on_delete=models.CASCADE, related_name="records")
    name = models.CharField(_("name"), max_length=253, help_text=_("Relative to the zone; @ for the zone itself."))
    type = models.CharField(_("type"), max_length=8, choices=Type.choices)
    ttl = models.PositiveIntegerField(_("TTL"), default=3600)
    value = models.TextField(_("value"), help_text=_("The record data in zone-file syntax."))
    created_at = models.DateTimeField(default=timezone.now)

    CUSTOMER_PATH = "zone__service__customer"

    class Meta:
        verbose_name = _("DNS record")
        verbose_name_plural = _("DNS records")
        ordering = ["name", "type", "pk"]
        indexes = [models.Index(fields=["zone", "name", "type"])]

    def __str__(self) -> str:
        return f"{self.name} {self.ttl} {self.type} {self.value}"


class ZoneChange(models.Model):
    """The zone's history: who added, changed or deleted which record, with old and new value."""

    class Action(models.TextChoices):
        ADDED = "added", _("Added")
        CHANGED = "changed", _("Changed")
        DELETED = "deleted", _("Deleted")
        IMPORTED = "imported", _("Imported")

    zone = models.ForeignKey(DnsZone, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    old_value = models.TextField(_("before"), blank=True)
    new_value = models.TextField(_("after"), blank=True)
    serial = models.PositiveBigIntegerField(_("serial after"))
    ticket = models.ForeignKey(
        "support.Ticket", verbose_name=_("ticket"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", help_text=_("Set when staff changed the zone for a ticket (charged per annex 1)."),
    )  # fmt: skip
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    CUSTOMER_PATH = "zone__service__customer"

    class Meta:
        verbose_name = _("zone change")
        verbose_name_plural = _("zone history")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.zone} {self.action} {self.created_at:%Y-%m-%d %H:%M}"


# SSL certificates (art. 5)


class CertificateRequest(models.Model):
    """A request to a certificate authority for the names the customer chose (art. 5.1.1)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        VALIDATING = "validating", _("Validating")
        INFORMATION_REQUESTED = "information_requested", _("Information requested")
        ISSUED = "issued", _("Issued")
        REJECTED = "rejected", _("Rejected")
        REVOKED = "revoked", _("Revoked")
        REPLACED = "replaced", _("Replaced")

    class KeySource(models.TextChoices):
        GENERATED = "generated", _("Key and CSR generated by the portal")
        CUSTOMER_CSR = "customer_csr", _("The customer's own CSR")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="certificate_requests"
    )
    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.PROTECT, null=True, blank=True)
    names = models.JSONField(_("names"), default=list, help_text=_("The first one is the common name."))
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.REQUESTED)
    key_source = models.CharField(_("key"), max_length=16, choices=KeySource.choices)
    private_key_encrypted = models.TextField(editable=False, blank=True)
    key_downloaded_at = models.DateTimeField(_("key downloaded"), null=True, blank=True)
    csr_pem = models.TextField(_("CSR"))
    replaces = models.ForeignKey(
        "self", verbose_name=_("renews or replaces"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="replaced_by",
    )  # fmt: skip
    service = models.OneToOneField(
        Service, verbose_name=_("contract"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="certificate_request",
    )  # fmt: skip
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("certificate request")
        verbose_name_plural = _("certificate requests")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return ", ".join(self.names) or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("certificate_detail", args=[self.pk])

    @property
    def common_name(self) -> str:
        return self.names[0] if self.names else ""


class CertificateRequestMessage(TimelineMessage):
    """The request's timeline: state changes, the CA's questions and the customer's documents."""

    request = models.ForeignKey(CertificateRequest, on_delete=models.CASCADE, related_name="messages")
    document = models.FileField(_("document"), upload_to="certificate-requests/%Y/%m/", blank=True, max_length=300)

    class Meta:
        verbose_name = _("certificate request message")
        verbose_name_plural = _("timeline")
        ordering = ["created_at", "pk"]


class Certificate(models.Model):
    """An issued certificate as uploaded and checked; its expiry ends its contract (art. 5.2.1)."""

    request = models.ForeignKey(CertificateRequest, on_delete=models.CASCADE, related_name="certificates")
    pem = models.TextField(_("certificate (PEM)"))
    chain_pem = models.TextField(_("chain (PEM)"), blank=True)
    subject = models.CharField(_("subject"), max_length=500)
    issuer = models.CharField(_("issuer"), max_length=500)
    serial_number = models.CharField(_("serial number"), max_length=100)
    names = models.JSONField(_("names"), default=list)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"), db_index=True)
    key_type = models.CharField(_("key type"), max_length=20)
    key_size = models.PositiveIntegerField(_("key size"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by_customer_fault = models.BooleanField(_("revoked through the customer's fault"), null=True, blank=True)

    CUSTOMER_PATH = "request__customer"

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["not_after", "pk"]

    def __str__(self) -> str:
        return f"{', '.join(self.names)} (→ {self.not_after:%Y-%m-%d})"


class CertificateNotice(models.Model):
    """One expiry notice per certificate and threshold, guaranteed by the constraint (art. 5.2.2)."""

    certificate = models.ForeignKey(Certificate, on_delete=models.CASCADE, related_name="notices")
    days_before = models.PositiveSmallIntegerField(_("days before expiry"))
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("certificate expiry notice")
        verbose_name_plural = _("certificate expiry notices")
        constraints = [
            models.UniqueConstraint(fields=["certificate", "days_before"], name="one_notice_per_certificate_threshold")
        ]

    def __str__(self) -> str:
        return f"{self.certificate_id} −{self.days_before}d"


# Microsoft 365 (art. 6)


class LicenceChange(models.Model):
    """Licences added or cancelled (art. 6.1.5), and their fulfilment at Microsoft."""

    class Fulfilment(models.TextChoices):
        PENDING = "pending", _("To do at Microsoft")
        DONE = "done", _("Done at Microsoft")

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="licence_changes")
    delta = models.IntegerField(_("licences added (+) or cancelled (−)"))
    quantity_after = models.PositiveIntegerField(_("licences after"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    fulfilment = models.CharField(_("fulfilment"), max_length=8, choices=Fulfilment.choices, default=Fulfilment.PENDING)
    fulfilled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    fulfilled_at = models.DateTimeField(_("fulfilled"), null=True, blank=True)

    CUSTOMER_PATH = "service__customer"

    class Meta:
        verbose_name = _("licence change")
        verbose_name_plural = _("licence changes")
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=~models.Q(delta=0), name="licence_change_not_zero")]

    def __str__(self) -> str:
        return f"{self.service_id} {self.delta:+d} → {self.quantity_after}"


class PriceChange(models.Model):
    """A new unit price of a plan from a date (art. 6.1.6: Microsoft's increases passed on)."""

    plan = models.ForeignKey(Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="price_changes")
    price = models.DecimalField(_("new price (excl. VAT)"), max_digits=10, decimal_places=2)
    effective_on = models.DateField(_("effective from"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    announced_at = models.DateTimeField(_("customers told"), null=True, blank=True)

    class Meta:
        verbose_name = _("price change")
        verbose_name_plural = _("price changes")
        ordering = ["plan", "effective_on"]
        constraints = [models.UniqueConstraint(fields=["plan", "effective_on"], name="one_price_per_plan_and_date")]

    def __str__(self) -> str:
        return f"{self.plan}: {self.price} from {self.effective_on}"


class OrderIntegration(models.Model):
    """Art. 6.1.4: optional integration services chosen with the order, with agreed scope and price."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="integrations")
    scope = models.TextField(_("agreed scope"))
    price = models.DecimalField(_("agreed price (excl. VAT)"), max_digits=10, decimal_places=2)

    CUSTOMER_PATH = "order__customer"

    class Meta:
        verbose_name = _("integration service")
        verbose_name_plural = _("integration services")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.scope[:40]}"


# Renewals and notices (issue 7)


class ServiceNotice(models.Model):
    """A renewal or expiry e-mail about one period of a service, sent once (unique constraint)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="notices")
    period_end = models.DateField(_("period end"))
    kind = models.CharField(_("notice"), max_length=32)
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)

    CUSTOMER_PATH = "service__customer"

    class Meta:
        verbose_name = _("service notice")
        verbose_name_plural = _("service notices")
        constraints = [
            models.UniqueConstraint(fields=["service", "period_end", "kind"], name="one_notice_per_service_period_kind")
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.period_end} {self.kind}"


class JobRun(models.Model):
    """A run of a scheduled job: started, finished, counts and errors, for staff (issue 7)."""

    job = models.CharField(_("job"), max_length=64, db_index=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    for_date = models.DateTimeField(_("run for"), null=True, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.job} {self.started_at:%Y-%m-%d %H:%M}"
