"""The subscription form of the admin (国家平台对接 → 订阅国家内容)."""

from __future__ import annotations

from django import forms
from wagtail.models import Page

from .models import Peer, Subscription


def _index_pages():
    """This site's resource and activity lists: where pulled copies can go."""
    from cms_pages.models import ActivityIndexPage, ResourceIndexPage

    return Page.objects.type(ResourceIndexPage, ActivityIndexPage).order_by("path")


class SubscriptionForm(forms.Form):
    name = forms.CharField(label="名称", max_length=100)
    peer = forms.ModelChoiceField(label="来源节点", queryset=Peer.objects.none(), empty_label=None)
    set_spec = forms.ChoiceField(label="订阅内容", choices=[(k, v[0]) for k, v in Subscription.SETS.items()])
    parent_page = forms.ModelChoiceField(label="放在此栏目下", queryset=Page.objects.none())
    policy = forms.ChoiceField(label="本地修改策略", choices=Subscription.Policy.choices)
    auto_publish = forms.BooleanField(label="自动发布", required=False, help_text="不勾选则进入内容审核流程")
    active = forms.BooleanField(label="启用", required=False, initial=True)

    EDITABLE = ("name", "peer", "parent_page", "policy", "auto_publish", "active")

    def __init__(self, *args, creating: bool, subscription: Subscription | None = None, **kwargs):
        if subscription is not None:
            kwargs.setdefault("initial", {name: getattr(subscription, name) for name in self.EDITABLE})
        super().__init__(*args, **kwargs)
        self.subscription = subscription
        self.fields["peer"].queryset = Peer.objects.order_by("-is_uplink", "name")
        self.fields["parent_page"].queryset = _index_pages()
        self.fields["parent_page"].label_from_instance = lambda page: f"{page.title}（{page.url_path}）"
        if creating:
            del self.fields["active"]
        else:
            # The set decides the page type of every copy: a different set is a new subscription.
            self.fields["set_spec"].disabled = True
            self.fields["set_spec"].initial = subscription.set_spec

    def changes(self) -> dict:
        """The edited fields that differ from the subscription (for sync.update_subscription)."""
        changed = {}
        for name in self.EDITABLE:
            if name in self.cleaned_data and self.cleaned_data[name] != getattr(self.subscription, name):
                changed[name] = self.cleaned_data[name]
        return changed
