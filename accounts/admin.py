from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEvent, Customer, Invitation, Membership, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["full_name"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


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
    list_display = ["name", "country", "vat_number", "billing_email", "preferred_language", "created_at"]
    list_filter = ["country", "preferred_language"]
    search_fields = ["name", "vat_number", "billing_email"]
    inlines = [MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "customer", "role", "invited_by", "created_at", "accepted_at", "revoked_at"]
    list_select_related = ["customer", "invited_by"]
    search_fields = ["email", "customer__name"]
    readonly_fields = ["customer", "email", "role", "invited_by", "created_at", "accepted_at", "accepted_by"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is written by the portal, never edited."""

    list_display = ["created_at", "actor_email", "customer", "action", "object_repr", "ip_address"]
    list_filter = ["action"]
    list_select_related = ["customer"]
    search_fields = ["actor_email", "customer__name", "object_repr", "action"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
