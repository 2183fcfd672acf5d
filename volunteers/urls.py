from django.urls import path

from . import views

urlpatterns = [
    path("me/volunteer/", views.volunteer_home, name="volunteer_home"),
    path("me/volunteer/certificate/", views.request_certificate, name="volunteer_certificate"),
    path("volunteers/apply/", views.apply, name="volunteer_apply"),
    path("volunteers/shifts/<int:shift_id>/sign-up/", views.sign_up, name="volunteer_sign_up"),
    path("volunteers/sign-ups/<int:signup_id>/cancel/", views.cancel_signup, name="volunteer_cancel"),
    path("volunteers/sign-ups/<int:signup_id>/decline/", views.decline_invitation, name="volunteer_decline"),
    path("volunteers/check/", views.check, name="volunteers_check"),
    path("volunteers/manage/", views.dashboard, name="volunteers_dashboard"),
    path("volunteers/manage/applications/<int:volunteer_id>/", views.application_detail, name="volunteers_application"),
    path(
        "volunteers/manage/applications/<int:volunteer_id>/decide/",
        views.decide_application,
        name="volunteers_decide_application",
    ),
    path("volunteers/manage/opportunities/<int:page_id>/shifts/new/", views.new_shift, name="volunteers_new_shift"),
    path("volunteers/manage/shifts/<int:shift_id>/", views.shift_detail, name="volunteers_shift"),
    path("volunteers/manage/shifts/<int:shift_id>/code/", views.shift_code, name="volunteers_shift_code"),
    path("volunteers/manage/hours/", views.decide_hours, name="volunteers_decide_hours"),
    path("volunteers/manage/teams/new/", views.new_team, name="volunteers_new_team"),
    path("volunteers/manage/teams/<int:team_id>/", views.team_detail, name="volunteers_team"),
    path("volunteers/manage/export/volunteers.xlsx", views.export_volunteers, name="volunteers_export"),
    path("volunteers/manage/export/hours.xlsx", views.export_hours, name="volunteers_export_hours"),
]
