from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Customer


class CreditAccount(models.Model):
    """A customer's prepaid service credits (art. 7.4). The balance is the sum of its ledger."""

    customer = models.OneToOneField(Customer, on_delete=models.PROTECT, related_name="credit_account")
    balance = models.IntegerField(_("balance"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("credit account")
        verbose_name_plural = _("credit accounts")
        constraints = [models.CheckConstraint(condition=Q(balance__gte=0), name="credit_balance_never_negative")]

    def __str__(self) -> str:
        return f"{self.customer}: {self.balance}"


class AppendOnly(models.Model):
    """Rows that are written once and never changed or deleted (ledger, payments)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValidationError(_("This record is append-only: it cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("This record is append-only: it cannot be deleted."))


class LedgerEntry(AppendOnly):
    """One movement of credits: who, why, what it belongs to, and the balance after it."""

    class Kind(models.TextChoices):
        GRANT = "grant", _("Credits added")
        SPEND = "spend", _("Credits spent")

    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    credits = models.IntegerField(_("credits"), help_text=_("Positive for a grant, negative for a spend."))
    balance_after = models.IntegerField(_("balance after"))
    reason = models.CharField(_("reason"), max_length=255)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    ticket = models.ForeignKey(
        "support.Ticket", verbose_name=_("ticket"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="ledger_entries",
    )  # fmt: skip
    time_entry = models.ForeignKey(
        "support.TimeEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    quote = models.ForeignKey("support.Quote", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    invoice = models.ForeignKey(
        "billing.Invoice", verbose_name=_("invoice"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="ledger_entries",
    )  # fmt: skip
    idempotency_key = models.CharField(max_length=100, unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    CUSTOMER_PATH = "account__customer"

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_after_never_negative"),
            models.CheckConstraint(
                condition=(Q(kind="grant", credits__gt=0) | Q(kind="spend", credits__lt=0)),
                name="ledger_sign_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d} {self.credits:+d} ({self.reason})"


class CreditPack(models.Model):
    """A pack of service credits sold at a price (excl. VAT)."""

    name = models.CharField(_("name"), max_length=100)
    credits = models.PositiveIntegerField(_("credits"), validators=[MinValueValidator(1)])
    price = models.DecimalField(
        _("price excl. VAT"), max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    is_active = models.BooleanField(_("for sale"), default=True)

    class Meta:
        verbose_name = _("credit pack")
        verbose_name_plural = _("credit packs")
        ordering = ["credits"]

    def __str__(self) -> str:
        return f"{self.name} ({self.credits})"


class InvoiceCounter(models.Model):
    """The last invoice number of each year: numbers follow each other without gaps."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Invoice(models.Model):
    class Status(models.TextChoices):
        ISSUED = "issued", _("To be paid")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="invoices"
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ISSUED)
    issued_on = models.DateField(_("issued on"))
    due_on = models.DateField(_("due on"))
    structured_communication = models.CharField(_("structured communication"), max_length=12, unique=True)
    # The customer as invoiced, kept as it was on the day (the customer record may change later).
    customer_name = models.CharField(_("invoiced to"), max_length=200)
    customer_address = models.TextField(_("address"), blank=True)
    customer_vat_number = models.CharField(_("VAT number"), max_length=32, blank=True)
    subtotal = models.DecimalField(_("total excl. VAT"), max_digits=12, decimal_places=2)
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=2)
    vat_amount = models.DecimalField(_("VAT"), max_digits=12, decimal_places=2)
    total = models.DecimalField(_("total incl. VAT"), max_digits=12, decimal_places=2)
    reverse_charge = models.BooleanField(_("reverse charge"), default=False)
    vat_note = models.CharField(_("VAT note"), max_length=255, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    effects_applied_at = models.DateTimeField(null=True, blank=True, editable=False)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issued_on", "-number"]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("invoice_detail", args=[self.number])

    @property
    def communication_display(self) -> str:
        c = self.structured_communication
        return f"+++{c[:3]}/{c[3:7]}/{c[7:]}+++"

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.ISSUED and self.due_on < timezone.localdate()


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    description = models.CharField(_("description"), max_length=255)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=2)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    credit_pack = models.ForeignKey(CreditPack, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    credits = models.PositiveIntegerField(_("credits granted when paid"), default=0)
    # A renewal line pays exactly one period of one service (issue 7: only paying it renews it).
    service = models.ForeignKey(
        "services.Service", verbose_name=_("service"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="invoice_lines",
    )  # fmt: skip
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period until"), null=True, blank=True)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "period_start"], condition=Q(service__isnull=False), name="one_invoice_per_period"
            )
        ]

    def __str__(self) -> str:
        return self.description


class Payment(AppendOnly):
    """Money received for an invoice: recorded by staff or imported from a bank statement."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Recorded by staff")
        BANK = "bank", _("Bank statement")

    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    received_on = models.DateField(_("received on"))
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.MANUAL)
    bank_reference = models.CharField(
        _("bank reference"), max_length=140, unique=True, null=True, blank=True,
        help_text=_("The statement entry's reference: a statement imported twice records nothing twice."),
    )  # fmt: skip
    payer = models.CharField(_("payer"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_on", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]

    def __str__(self) -> str:
        return f"{self.invoice} {self.amount}"
