from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("no-customer/", views.no_customer, name="no_customer"),
    path("switch-customer/", views.switch_customer, name="switch_customer"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("services/", include("services.urls")),
    path("support/", include("support.urls")),
    path("billing/", include("billing.urls")),
]

handler403 = "portal.views.error_403"
handler404 = "portal.views.error_404"
handler500 = "portal.views.error_500"

if settings.PORTAL_BENCH_URLS:
    from portal.bench.views import ok

    urlpatterns += [path("bench/ok/", ok, name="bench_ok")]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
