from django.urls import path

from . import views

app_name = "bookings"
urlpatterns = [
    path("bookings/sessions/<int:session_id>/", views.session_detail, name="session"),
    path("bookings/rooms/<int:room_id>/", views.room, name="room"),
    path("me/bookings/", views.my_bookings, name="mine"),
    path("me/bookings/<str:order_number>/", views.ticket, name="ticket"),
    path("me/bookings/<str:order_number>/cancel/", views.cancel, name="cancel"),
    path("me/bookings/<str:order_number>/confirm/", views.confirm_hold, name="confirm"),
    path("me/bookings/<str:order_number>/calendar.ics", views.booking_calendar, name="calendar"),
    path("me/rooms/<str:order_number>/cancel/", views.cancel_room, name="cancel_room"),
    path("me/organisations/", views.my_organisations, name="organisations"),
    path("me/bookings-calendar/reset/", views.reset_my_feed, name="reset_feed"),
    path("bookings/feeds/<str:token>.ics", views.calendar_feed, name="feed"),
    path(
        "bookings/staff/rooms/<int:room_id>/calendar/reset/", views.staff_reset_room_feed, name="staff_reset_room_feed"
    ),
    path(
        "bookings/staff/organisations/<int:organisation_id>/<str:action>/",
        views.staff_organisation_action,
        name="staff_organisation_action",
    ),
    path("bookings/staff/", views.staff_home, name="staff_home"),
    path("bookings/staff/check-in/", views.staff_check_in, name="staff_check_in"),
    path("bookings/staff/sessions/<int:session_id>/", views.staff_session, name="staff_session"),
    path("bookings/staff/sessions/<int:session_id>/export.xlsx", views.staff_session_export, name="staff_export"),
    path("bookings/staff/sessions/<int:session_id>/message/", views.staff_session_message, name="staff_message"),
    path("bookings/staff/sessions/<int:session_id>/cancel/", views.staff_session_cancel, name="staff_session_cancel"),
    path("bookings/staff/bookings/<int:booking_id>/<str:action>/", views.staff_booking_action, name="staff_action"),
    path("bookings/staff/bans/<int:ban_id>/lift/", views.staff_lift_ban, name="staff_lift_ban"),
    path("bookings/staff/rooms/<int:room_id>/", views.staff_room, name="staff_room"),
    path("bookings/staff/rooms/<int:room_id>/calendar.ics", views.staff_room_calendar, name="staff_room_calendar"),
    path(
        "bookings/staff/room-bookings/<int:booking_id>/<str:action>/", views.staff_room_action, name="staff_room_action"
    ),
]
