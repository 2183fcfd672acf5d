from django.urls import path

from . import views

urlpatterns = [
    path("verify/", views.verify_form, name="certificate_verify_form"),
    path("verify/<str:code>/", views.verify, name="certificate_verify"),
    path("verify/<str:code>/pdf/", views.certificate_pdf, name="certificate_pdf"),
    path("me/certificates/", views.my_certificates, name="my_certificates"),
]
