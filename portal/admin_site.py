"""The admin site: reached only through allauth's login, and only by staff with MFA enabled."""

from allauth.account.decorators import secure_admin_login
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


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
