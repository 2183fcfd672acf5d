"""Wagtail's page privacy dialog, with the two meanings of "signed in" named apart.

Accounts are platform-wide, so "signed in" could mean any Culture Cloud account or only members
of this site: the dialog offers both (privacy.ANY_ACCOUNT_LABEL, privacy.MEMBERS_ONLY_LABEL). The
second is Wagtail's "login" restriction plus a `MembersOnlyRestriction` row. Served at Wagtail's
own URL (core/urls.py puts it first), so every link to the dialog reaches it.
"""

from __future__ import annotations

from wagtail.admin.forms.pages import PageViewRestrictionForm
from wagtail.admin.views.page_privacy import SetPrivacyView
from wagtail.models import PageViewRestriction

from . import privacy


class SitePrivacyForm(PageViewRestrictionForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = []
        for value, label in self.fields["restriction_type"].choices:
            if value == PageViewRestriction.LOGIN:
                choices += [(value, privacy.ANY_ACCOUNT_LABEL), (privacy.MEMBERS_ONLY, privacy.MEMBERS_ONLY_LABEL)]
            else:
                choices.append((value, label))
        self.fields["restriction_type"].choices = choices
        if self.instance and privacy.is_members_only(self.instance):
            self.initial["restriction_type"] = privacy.MEMBERS_ONLY
        self.members_only = False

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("restriction_type") == privacy.MEMBERS_ONLY:
            self.members_only = True
            cleaned["restriction_type"] = PageViewRestriction.LOGIN
        return cleaned


class SitePrivacyView(SetPrivacyView):
    form_class = SitePrivacyForm

    def form_valid(self, form):
        response = super().form_valid(form)
        restriction = PageViewRestriction.objects.filter(page=self.page).first()
        if restriction is not None:
            privacy.set_members_only(restriction, form.members_only)
        return response
