from django.urls import path

from services.views import certificates as certificate_views
from services.views import dns as dns_views
from services.views import domains as domain_views
from services.views import hosting as hosting_views
from services.views import m365 as m365_views
from services.views import orders, services

urlpatterns = [
    path("", services.service_list, name="service_list"),
    path("<int:pk>/", services.service_detail, name="service_detail"),
    path("<int:pk>/restore/", hosting_views.hosting_restore, name="hosting_restore"),
    path("<int:pk>/dns/", dns_views.zone_page, name="dns_zone"),
    path("<int:pk>/dns/records/add/", dns_views.record_add, name="dns_record_add"),
    path("<int:pk>/dns/records/<int:record_pk>/edit/", dns_views.record_edit, name="dns_record_edit"),
    path("<int:pk>/dns/records/<int:record_pk>/delete/", dns_views.record_delete, name="dns_record_delete"),
    path("<int:pk>/dns/export/", dns_views.zone_export, name="dns_zone_export"),
    path("<int:pk>/dns/history/", dns_views.zone_history, name="dns_zone_history"),
    path("cms-updates/<int:pk>/confirm/", hosting_views.cms_update_confirm, name="cms_update_confirm"),
    path("cms-updates/<int:pk>/problem/", hosting_views.cms_update_problem, name="cms_update_problem"),
    path("m365/", m365_views.m365_list, name="m365_list"),
    path("m365/<int:pk>/licences/", m365_views.m365_licences_change, name="m365_licences_change"),
    path("m365/<int:pk>/end/", m365_views.m365_end, name="m365_end"),
    path("certificates/", certificate_views.certificate_list, name="certificate_list"),
    path("certificates/new/", certificate_views.certificate_new, name="certificate_new"),
    path("certificates/<int:pk>/", certificate_views.certificate_detail, name="certificate_detail"),
    path("certificates/<int:pk>/key/", certificate_views.certificate_key_download, name="certificate_key_download"),
    path("certificates/<int:pk>/upload/", certificate_views.certificate_upload, name="certificate_upload"),
    path("certificates/<int:pk>/answer/", certificate_views.certificate_answer, name="certificate_answer"),
    path("certificates/<int:pk>/withdraw/", certificate_views.certificate_withdraw, name="certificate_withdraw"),
    path(
        "certificates/<int:pk>/integration/", certificate_views.certificate_integration, name="certificate_integration"
    ),
    path(
        "certificates/<int:pk>/documents/<int:message_pk>/",
        certificate_views.certificate_document,
        name="certificate_document",
    ),
    path("catalogue/", orders.catalogue, name="catalogue"),
    path("order/", orders.order_new, name="order_new"),
    path("orders/", orders.order_list, name="order_list"),
    path("orders/<int:pk>/", orders.order_detail, name="order_detail"),
    path("orders/<int:pk>/cancel/", orders.order_cancel, name="order_cancel"),
    path("domains/requests/", domain_views.domain_request_list, name="domain_request_list"),
    path("domains/requests/new/", domain_views.domain_request_new, name="domain_request_new"),
    path("domains/requests/<int:pk>/", domain_views.domain_request_detail, name="domain_request_detail"),
    path(
        "domains/requests/<int:pk>/documents/<int:message_pk>/",
        domain_views.domain_request_document,
        name="domain_request_document",
    ),
]
