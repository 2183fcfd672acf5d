from django.urls import path

from . import views

urlpatterns = [
    path("", views.members_index, name="roles_members"),
    path("invite/", views.member_invite, name="roles_member_invite"),
    path("<int:user_id>/", views.member_edit, name="roles_member_edit"),
]
