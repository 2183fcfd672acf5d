from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("me/messages/", views.message_list, name="list"),
    path("me/messages/<int:notification_id>/read/", views.mark_read, name="read"),
    path("me/messages/read-all/", views.mark_all_read, name="read_all"),
]
