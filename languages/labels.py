"""Labels other apps keep as plain Chinese strings in code (model choices shown on staff pages),
listed here so `makemessages` puts them in the catalogues; the templates translate them where
they are shown (`{% translate o.get_status_display %}`). Never imported: read by makemessages."""

from django.utils.translation import gettext_noop

LABELS = [
    # bookings.models.Organisation.Status
    gettext_noop("待审核"),
    gettext_noop("已通过"),
    gettext_noop("未通过"),
    # volunteers.models (hours record kinds)
    gettext_noop("签到记录"),
    gettext_noop("补录"),
]
