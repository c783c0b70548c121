from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    default = True
    name = "portal"
    verbose_name = "Portal"


class PortalAdminConfig(admin_apps.AdminConfig):
    """The Django admin, served by our site: allauth login and MFA required for staff."""

    default = False
    default_site = "portal.admin_site.PortalAdminSite"
