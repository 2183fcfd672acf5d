from django.urls import path

from . import views

app_name = "federation"
urlpatterns = [
    path("federation/inbox/", views.endpoint, name="inbox"),
    path("federation/feed/", views.endpoint, name="feed"),
]
