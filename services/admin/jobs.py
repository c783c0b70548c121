from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from services.models import JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    """What the scheduled jobs did, run by run; written by the jobs only."""

    list_display = ["job", "started_at", "finished_at", "for_date", "dry_run", "counts", "error_count"]
    list_filter = ["job", "dry_run"]
    date_hierarchy = "started_at"
    readonly_fields = ["job", "started_at", "finished_at", "for_date", "dry_run", "counts", "errors"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("errors"))
    def error_count(self, run: JobRun) -> int:
        return len(run.errors)
