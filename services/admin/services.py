from django.contrib import admin

from services.models import Plan, Service


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "price", "period_months", "requires_kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]


class AddonInline(admin.TabularInline):
    model = Service
    fk_name = "parent"
    fields = ["name", "plan", "status", "current_period_end"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "customer", "plan", "status", "started_on", "current_period_end", "auto_renew"]
    list_filter = ["status", "plan__kind", "auto_renew"]
    list_select_related = ["customer", "plan"]
    search_fields = ["name", "customer__name"]
    autocomplete_fields = ["customer", "parent"]
    date_hierarchy = "current_period_end"
    inlines = [AddonInline]
