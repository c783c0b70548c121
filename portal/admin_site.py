"""The admin site: reached only through allauth's login, and only by staff with MFA enabled.

With it, what every app's admin shares: read-only admins, the customer column and filter that link a
row to its customer (its admin page and overview) and a customer to its rows, and the loop behind
the actions that call a function per selected row.
"""

from collections.abc import Callable

from allauth.account.decorators import secure_admin_login
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.scoping import customer_path

CUSTOMER_PARAMETER = "customer__id__exact"  # what Django's own filter on a `customer` foreign key uses


class NarrowedAutocompleteJsonView(AutocompleteJsonView):
    """Suggests only what the form accepts: the source field's choices as its admin narrows them.

    A backup is recorded for a shared hosting, a CMS update for a managed CMS: the source admin's
    ``formfield_for_foreignkey`` narrows the queryset, and the suggestions follow it.
    """

    def get_queryset(self):
        queryset = super().get_queryset()
        source_admin = self.admin_site._registry.get(self.source_field.model)
        if source_admin is None:  # an inline's model: nothing narrows it here
            return queryset
        formfield = source_admin.formfield_for_dbfield(self.source_field, self.request)
        choices = getattr(formfield, "queryset", None)
        if choices is None or not choices.query.has_filters():
            return queryset
        return queryset.filter(pk__in=choices.values("pk"))


class PortalAdminSite(admin.AdminSite):
    site_header = gettext_lazy("Hosting portal — staff")
    site_title = gettext_lazy("Hosting portal staff")
    index_title = gettext_lazy("Support desk and operations")

    def has_permission(self, request) -> bool:
        if not super().has_permission(request):
            return False
        return not settings.PORTAL_ADMIN_REQUIRE_MFA or is_mfa_enabled(request.user)

    def login(self, request, extra_context=None):
        user = request.user
        if user.is_active and user.is_staff and settings.PORTAL_ADMIN_REQUIRE_MFA and not is_mfa_enabled(user):
            messages.warning(request, _("Staff must enable two-factor authentication before using the admin."))
            return redirect("mfa_index")
        return secure_admin_login(super().login)(request, extra_context)

    def autocomplete_view(self, request):
        return NarrowedAutocompleteJsonView.as_view(admin_site=self)(request)


# Read-only admins: history, ledgers and grants are written by the portal's functions only.


class ReadOnlyAdminMixin:
    """No add, change or delete: the rows are written by the portal's functions, staff only read them."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False


# Links between a customer and its rows


def follow(obj: Model, path: str):
    """The object at the end of ``path`` ("service__customer"), read from what the query selected."""
    for name in path.split("__"):
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


def customer_links(customer) -> str:
    """The customer's name linked to its admin page, and a link to its overview."""
    if customer is None:
        return "—"
    return format_html(
        '<a href="{}">{}</a> <small>(<a href="{}">{}</a>)</small>',
        reverse("admin:accounts_customer_change", args=[customer.pk]),
        customer.name,
        reverse("admin:accounts_customer_overview", args=[customer.pk]),
        _("overview"),
    )


def linked_customer(path: str = "customer") -> Callable:
    """A column or read-only field for a ModelAdmin: the row's customer (at ``path``), linked.

    Select the path in the list (``list_select_related``) and the page, or each row costs a query.
    """

    @admin.display(description=gettext_lazy("customer"), ordering=f"{path}__name")
    def customer_link(model_admin, obj) -> str:
        return customer_links(follow(obj, path))

    return customer_link


def changelist_of_customer(model: type[Model], customer_id: int) -> str:
    """The admin list of ``model`` filtered on one customer (the lists take ``CustomerFilter``)."""
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + f"?{CUSTOMER_PARAMETER}={customer_id}"


class CustomerFilter(admin.SimpleListFilter):
    """``?customer__id__exact=<pk>``: the rows of one customer, whatever the model's path to it.

    The customer's page and overview link to lists with it. It shows in the sidebar only while it is on:
    a choice of every customer would be a list of thousands.
    """

    title = gettext_lazy("customer")
    parameter_name = CUSTOMER_PARAMETER

    def __init__(self, request, params, model, model_admin):
        # The model's CUSTOMER_PATH, or the admin's own ``customer_path`` for a model without one.
        self.path = getattr(model_admin, "customer_path", None) or customer_path(model)
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        value = self.value()
        if not value:
            return []
        from accounts.models import Customer

        name = Customer.objects.filter(pk=value).values_list("name", flat=True).first() if value.isdecimal() else None
        return [(value, name or value)]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        if not value.isdecimal():  # isdigit() also takes "²", which int() refuses
            raise IncorrectLookupParameters(value)
        return queryset.filter(**{f"{self.path}__pk": int(value)})


# Actions that call a function per selected row


def apply_each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset,
    change: Callable[[Model], object],
    *,
    done_message=None,
    name: Callable[[Model], str] = str,
) -> int:
    """Call ``change`` on each row; say how many changed (``done_message % {"count": n}``, e.g. an
    ``ngettext_lazy(..., "count")``) and, one by one, why the others were refused. Returns the count."""
    done, refused = 0, []
    for obj in queryset:
        try:
            change(obj)
        except ValidationError as error:
            refused.append(f"{name(obj)}: {' '.join(error.messages)}")
        else:
            done += 1
    if done_message is not None:
        model_admin.message_user(request, done_message % {"count": done})
    for text in refused:
        model_admin.message_user(request, text, messages.ERROR)
    return done
