from django.urls import path

from services.views import services

urlpatterns = [
    path("", services.service_list, name="service_list"),
    path("<int:pk>/", services.service_detail, name="service_detail"),
]
