from django.urls import path

from billing import views

urlpatterns = [
    path("", views.overview, name="billing"),
    path("ledger.csv", views.ledger_csv, name="ledger_csv"),
    path("buy/", views.buy_credits, name="buy_credits"),
    path("buy/order/", views.buy_credits_post, name="buy_credits_post"),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/<str:number>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<str:number>/pdf/", views.invoice_pdf, name="invoice_pdf"),
]
