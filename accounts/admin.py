"""People and customers in the admin, and the customer overview: one page with everything staff need
to know about a customer, each row linked to where it is handled."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts import invitations
from accounts.models import AuditEvent, Customer, Invitation, Membership, User
from billing.models import Invoice, LedgerEntry
from portal import overview as customer_overview
from portal.admin_site import (
    CustomerFilter,
    ReadOnlyAdminMixin,
    apply_each,
    changelist_of_customer,
    linked_customer,
)
from services.models import CertificateRequest, DnsZone, DomainRequest, Order, Service
from support.models import StaffAccessGrant, Ticket

# The lists of a customer's rows, linked from its page and its overview (each takes CustomerFilter).
RELATED_MODELS: list[type[Model]] = [
    Service, Ticket, Invoice, LedgerEntry, Membership, Order, DomainRequest, CertificateRequest, DnsZone,
    Invitation, StaffAccessGrant, AuditEvent,
]  # fmt: skip


def related_lists(customer_id: int) -> list[tuple[str, str]]:
    """(label, URL) of the admin lists of the customer's services, tickets, invoices… filtered on it."""
    return [
        (capfirst(model._meta.verbose_name_plural), changelist_of_customer(model, customer_id))
        for model in RELATED_MODELS
    ]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "full_name"]
    date_hierarchy = "date_joined"
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["full_name", "customers"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    readonly_fields = ["customers"]

    @admin.display(description=_("member of"))
    def customers(self, user: User) -> str:
        rows = [
            (reverse("admin:accounts_customer_change", args=[m.customer_id]), m.customer.name, m.get_role_display())
            for m in user.memberships.select_related("customer").order_by("customer__name")
        ]
        if not rows:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", '<li><a href="{}">{}</a> ({})</li>', rows))


class KnownUserAutocomplete(AutocompleteSelect):
    """The autocomplete box, showing a row's user from the row itself.

    Django's widget reads the selected option from the database, one query per row of the inline; a
    row read with ``select_related("user")`` already has it (``MembershipInlineForm`` hands it over).
    """

    known_user: User | None = None

    def optgroups(self, name, value, attr=None):
        user = self.known_user
        if user is None or {str(v) for v in value if v not in (None, "")} != {str(user.pk)}:
            return super().optgroups(name, value, attr)  # a new row, or a posted value that differs
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        label = self.choices.field.label_from_instance(user)
        options.append(self.create_option(name, user.pk, label, True, len(options)))
        return [(None, options, 0)]


class MembershipInlineForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        widget = self.fields["user"].widget
        widget = getattr(widget, "widget", widget)  # inside the admin's add/change links wrapper
        if isinstance(widget, KnownUserAutocomplete) and self.instance.user_id is not None:
            widget.known_user = self.instance.user


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipInlineForm
    extra = 0
    autocomplete_fields = ["user"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "customer")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["widget"] = KnownUserAutocomplete(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "name", "country", "vat_number", "billing_email", "preferred_language", "credits", "created_at", "overview",
    ]  # fmt: skip
    list_filter = ["country", "preferred_language"]
    list_select_related = ["credit_account"]
    search_fields = ["name", "vat_number", "billing_email"]
    date_hierarchy = "created_at"
    readonly_fields = ["related"]
    inlines = [MembershipInline]

    @admin.display(description=_("credits"), ordering="credit_account__balance")
    def credits(self, customer: Customer) -> int:
        account = getattr(customer, "credit_account", None)  # none until the first credit movement
        return account.balance if account else 0

    @admin.display(description=_("overview"))
    def overview(self, customer: Customer) -> str:
        url = reverse("admin:accounts_customer_overview", args=[customer.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Overview"))

    @admin.display(description=_("related"))
    def related(self, customer: Customer) -> str:
        if customer.pk is None:
            return "—"
        links = [(reverse("admin:accounts_customer_overview", args=[customer.pk]), gettext("Overview"))]
        links += [(url, label) for label, url in related_lists(customer.pk)]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    def get_urls(self):
        view = self.admin_site.admin_view(self.overview_view)
        return [path("<int:pk>/overview/", view, name="accounts_customer_overview"), *super().get_urls()]

    def overview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The customer at a glance (``portal.overview``): a fixed number of queries, whatever its size."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        data = customer_overview.for_customer(customer_id=pk, now=timezone.now())
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": data.customer,
            "title": gettext("Overview of %(customer)s") % {"customer": data.customer.name}, "overview": data,
            "related": related_lists(pk), "limit": customer_overview.LIMIT,
            "lists": {model._meta.model_name: changelist_of_customer(model, pk) for model in RELATED_MODELS},
        }  # fmt: skip
        return TemplateResponse(request, "admin/accounts/customer/overview.html", context)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who belongs to which customer, read-only: roles change on the customer's page or in the portal."""

    customer_link = linked_customer()
    list_display = ["user", "customer_link", "role", "created_at"]
    list_filter = [CustomerFilter, "role"]
    list_select_related = ["user", "customer"]
    search_fields = ["user__email", "user__full_name", "customer__name"]
    fields = ["user", "customer_link", "role", "created_at"]
    readonly_fields = fields


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Sent from the portal's team page; staff read them and may revoke a pending one (audited)."""

    customer_link = linked_customer()
    list_display = ["email", "customer_link", "role", "invited_by", "created_at", "accepted_at", "revoked_at"]
    list_filter = [
        CustomerFilter, "role", ("accepted_at", admin.EmptyFieldListFilter),
        ("revoked_at", admin.EmptyFieldListFilter),
    ]  # fmt: skip
    list_select_related = ["customer", "invited_by"]
    search_fields = ["email", "customer__name"]
    date_hierarchy = "created_at"
    fields = ["customer_link", "email", "role", "invited_by", "created_at", "accepted_at", "accepted_by", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    @admin.action(description=_("Revoke (the link stops working)"), permissions=["view"])
    def revoke(self, request: HttpRequest, queryset) -> None:
        apply_each(
            self, request, queryset.filter(accepted_at=None, revoked_at=None).select_related("customer"),
            lambda invitation: invitations.revoke(invitation=invitation, by=request.user, request=request),
            done_message=ngettext_lazy("%(count)d invitation revoked.", "%(count)d invitations revoked.", "count"),
        )  # fmt: skip


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: the audit trail is written by the portal, never edited."""

    customer_link = linked_customer()
    list_display = ["created_at", "actor_email", "customer_link", "action", "object_repr", "ip_address"]
    list_filter = [CustomerFilter, "action"]
    list_select_related = ["customer"]
    search_fields = ["actor_email", "customer__name", "object_repr", "action"]
    date_hierarchy = "created_at"
    show_full_result_count = False
