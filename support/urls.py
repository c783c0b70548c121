from django.urls import path

from support import views

urlpatterns = [
    path("", views.ticket_list, name="ticket_list"),
    path("new/", views.ticket_new, name="ticket_new"),
    path("new/reasons/", views.ticket_new_reasons, name="ticket_new_reasons"),
    path("new/preview/", views.ticket_new_preview, name="ticket_new_preview"),
    path("access/", views.staff_access, name="staff_access"),
    path("access/<int:pk>/revoke/", views.staff_access_revoke, name="staff_access_revoke"),
    path("<str:number>/", views.ticket_detail, name="ticket_detail"),
    path("<str:number>/remarks/", views.ticket_remark, name="ticket_remark"),
    path("<str:number>/close/", views.ticket_close, name="ticket_close"),
    path("<str:number>/reopen/", views.ticket_reopen, name="ticket_reopen"),
    path("<str:number>/access/", views.ticket_access, name="ticket_access"),
    path("<str:number>/attachments/<int:pk>/", views.ticket_attachment, name="ticket_attachment"),
    path("<str:number>/quotes/<int:pk>/accept/", views.quote_accept, name="quote_accept"),
    path("<str:number>/quotes/<int:pk>/decline/", views.quote_decline, name="quote_decline"),
]
