"""Admin side of bookings: sessions and room settings are edited in Wagtail; the daily work
(lists, approval, check-in on a phone, export, messages) happens on the front-desk pages
(/bookings/staff/), linked from the admin menu."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms import modelform_factory
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import BooleanColumn
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from . import services
from .models import RoomSettings, Session


class SessionForm(forms.ModelForm):
    """The admin's session form: capacity never below the seats taken; saved through the service."""

    def clean(self):
        cleaned = super().clean()
        try:
            services.check_capacity(self.instance.pk, cleaned.get("capacity"))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return cleaned

    def save(self, commit=True):
        session = super().save(commit=False)
        if commit:
            services.save_session(session)
        return session


class SessionViewSet(ModelViewSet):
    model = Session
    icon = "date"
    menu_label = "场次"
    add_to_admin_menu = False
    form_fields = [
        "activity",
        "name",
        "starts_at",
        "ends_at",
        "capacity",
        "opens_at",
        "closes_at",
        "cancel_deadline",
        "per_person_limit",
        "requires_approval",
        "waiting_list",
    ]
    # A plain column would print the boolean as "True"/"False" in the Chinese admin.
    list_display = ["__str__", "capacity", "starts_at", BooleanColumn("requires_approval", label="需审核")]
    list_filter = ["requires_approval"]
    search_fields = ["name", "activity__title"]
    ordering = ["-starts_at"]

    def get_form_class(self, for_update=False):
        return modelform_factory(
            self.model, form=SessionForm, formfield_callback=self.formfield_for_dbfield, fields=self.form_fields
        )


class RoomSettingsViewSet(ModelViewSet):
    model = RoomSettings
    icon = "home"
    menu_label = "功能室预定设置"
    add_to_admin_menu = False
    form_fields = [
        "room",
        "bookable",
        "opens_at",
        "closes_at",
        "slot_minutes",
        "closed_weekdays",
        "closed_dates",
        "who_may_book",
        "requires_approval",
        "max_slots",
    ]
    list_display = ["__str__", "bookable", "opens_at", "closes_at", "slot_minutes"]


class BookingsViewSetGroup(ModelViewSetGroup):
    menu_label = "预约"
    menu_icon = "date"
    menu_order = 660
    items = (SessionViewSet("booking_sessions"), RoomSettingsViewSet("booking_rooms"))


@hooks.register("register_admin_viewset")
def register_bookings_viewsets():
    return BookingsViewSetGroup()


class FrontDeskMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm("bookings.check_in_bookings")


@hooks.register("register_admin_menu_item")
def register_front_desk_menu_item():
    return FrontDeskMenuItem("预约管理与签到", "/bookings/staff/", icon_name="tick", order=661)
