"""Messages in the person's language: the account's language (set at sign-in) decides the words
of the stored message, its email and its SMS (docs/languages.md)."""

import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.services import remember_language
from bookings import services as bookings
from notifications import services
from notifications.models import Notification
from tests.bookings import factories as f

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
# Chinese characters and full-width punctuation (：，。“”).
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def _reader(username: str, language: str):
    user = f.person(username, real_name="Anna Smith", email=f"{username}@example.com")
    type(user).objects.filter(pk=user.pk).update(email_verified=True, language=language)
    user.refresh_from_db()
    return user


def _session():
    starts = timezone.make_aware(datetime(2030, 12, 9, 19, 0))
    return f.session(starts_at=starts, ends_at=starts + timedelta(hours=2))


def test_an_english_reader_books_a_seat_and_reads_the_message_and_email_in_english(
    django_capture_on_commit_callbacks,
):
    with schema_context("zhejiang"):
        visitor = _reader("en_booker", "en")
        session = _session()
        activity_title = session.activity.title
        with django_capture_on_commit_callbacks(execute=False):
            booking = bookings.book_seats(session.pk, visitor, 1)
        note = Notification.objects.get(recipient=visitor)
        assert note.title == f"Booking confirmed: {activity_title}"
        assert booking.pickup_code in note.body and "Dec 9, 19:00" in note.body
        # Nothing Chinese but the activity's own title.
        assert not CJK.search(note.title.replace(activity_title, "")), note.title
        assert not CJK.search(note.body), note.body
        services.deliver(note.pk)
    [email] = mail.outbox
    assert email.to == ["en_booker@example.com"] and email.subject == note.title
    assert not CJK.search(email.body), email.body


def test_a_chinese_reader_still_reads_chinese():
    with schema_context("zhejiang"):
        reader = _reader("zh_booker", "")
        session = _session()
        booking = bookings.book_seats(session.pk, reader, 1)
        note = Notification.objects.get(recipient=reader)
    assert note.title == f"预约成功：{session.activity.title}"
    assert note.body == f"取票码 {booking.pickup_code}，12月9日 19:00 开始，请凭电子票或取票码入场。"


def test_other_senders_write_in_the_readers_language_too():
    with schema_context("zhejiang"):
        reader = _reader("en_ban", "en")
        until = timezone.make_aware(datetime(2031, 1, 5, 12, 0))
        english = services.notify(
            reader,
            "bookings.banned",
            bookings.gettext_lazy("预约功能已暂停"),
            bookings.gettext_lazy("您在 {days} 天内预约后未到场 {count} 次，{until}前不能在本站预约活动。"),
            params={"days": 30, "count": 3, "until": services.LocalTime(until, services.YEAR_MONTH_DAY)},
        )
        # A message staff typed is taken as it is, braces and all.
        typed = services.notify(reader, "bookings.message", "{不是占位符}", "正文 {x}")
    assert not CJK.search(english.title + english.body), (english.title, english.body)
    assert "January 5, 2031" in english.body
    assert (typed.title, typed.body) == ("{不是占位符}", "正文 {x}")


def _language_updates(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and '"language"' in q["sql"]]


def test_signing_in_under_en_records_english_once_and_signing_in_in_chinese_records_chinese(client):
    person = f.person("lang_signin", real_name="Tom Lee")
    assert person.language == ""
    form = {"username": "lang_signin", "password": f.PASSWORD}
    response = client.post("/en/accounts/login/", form, HTTP_HOST=ZJ)
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.language == "en"
    # Signing in again in the same language writes nothing.
    client.post("/en/accounts/logout/", HTTP_HOST=ZJ)
    with CaptureQueriesContext(connection) as queries:
        assert client.post("/en/accounts/login/", form, HTTP_HOST=ZJ).status_code == 302
    assert _language_updates(queries.captured_queries) == []
    # Signing in on a Chinese page: their messages are Chinese again.
    client.post("/accounts/logout/", HTTP_HOST=ZJ)
    assert client.post("/accounts/login/", form, HTTP_HOST=ZJ).status_code == 302
    person.refresh_from_db()
    assert person.language == "zh-hans"


def test_remember_language_writes_only_a_known_language_that_differs(django_assert_num_queries):
    person = f.person("lang_service", real_name="Tom Lee")
    with django_assert_num_queries(0):
        assert remember_language(person, "zh-hans") is False  # blank already means the default
        assert remember_language(person, "xx") is False
        assert remember_language(person, "") is False
    with django_assert_num_queries(1):
        assert remember_language(person, "en") is True
    with django_assert_num_queries(0):
        assert remember_language(person, "en") is False
    person.refresh_from_db()
    assert person.language == "en"


def test_registering_under_en_records_english(client, settings):
    settings.NOTIFICATIONS_SMS_BACKEND = "notifications.sms.MemorySMSBackend"
    password = "Shuxiang-2026!"
    data = {"mobile": "13912340077", "display_name": "Anna", "password1": password, "password2": password}
    response = client.post("/en/accounts/register/", {**data, "consent": "on"}, HTTP_HOST=ZJ)
    assert response.status_code == 302
    person = get_user_model().objects.get(first_name="Anna")
    assert person.language == "en"


def test_the_personal_centre_changes_the_message_language_and_refuses_an_unknown_one(client):
    person = f.person("lang_choice", real_name="Tom Lee")
    client.force_login(person)
    page = client.get("/me/", HTTP_HOST=ZJ).content.decode()
    assert 'name="language"' in page and '<option value="en" lang="en">English</option>' in page
    response = client.post("/me/language/", {"language": "en"}, HTTP_HOST=ZJ)
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.language == "en"
    response = client.post("/me/language/", {"language": "xx"}, HTTP_HOST=ZJ)
    assert response.status_code == 400 and "请选择列表中的语言。" in response.content.decode()
    person.refresh_from_db()
    assert person.language == "en"


def test_the_text_message_names_the_site_in_the_readers_language(settings):
    from wagtail.models import Site

    from accounts.services import set_personal_data
    from notifications import sms
    from themes.models import Branding

    settings.NOTIFICATIONS_SMS_BACKEND = "notifications.sms.MemorySMSBackend"
    sms.outbox.clear()
    with schema_context("zhejiang"):
        reader = _reader("en_sms", "en")
        set_personal_data(reader, mobile="13800138077")
        type(reader).objects.filter(pk=reader.pk).update(mobile_verified=True)
        reader.refresh_from_db()
        Branding.objects.update_or_create(
            site=Site.objects.get(is_default_site=True),
            defaults={"site_name": "浙江文化云", "site_name_en": "Zhejiang Culture Cloud"},
        )
        note = services.notify(reader, "bookings.ban_lifted", bookings.gettext_lazy("您的预约限制已解除"))
        services.deliver(note.pk)
    [text] = sms.outbox
    assert text.text == "【Zhejiang Culture Cloud】Your booking restriction has been lifted"
