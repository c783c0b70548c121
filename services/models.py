import datetime
from decimal import Decimal

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
