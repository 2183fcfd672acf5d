from django.urls import path

from . import views

app_name = "campaigns"
urlpatterns = [
    path("campaigns/<int:page_id>/vote/", views.vote, name="vote"),
    path("campaigns/<int:page_id>/submit/", views.submit, name="submit"),
]
