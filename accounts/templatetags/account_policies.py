"""{% load account_policies %}{% policy_links as policies %}: the site's 隐私政策 and 用户协议 links."""

from django import template

register = template.Library()


@register.simple_tag
def policy_links() -> list[dict]:
    from accounts.policies import current_policies

    return [{"kind": p.kind, "title": p.title, "url": p.url} for p in current_policies()]
