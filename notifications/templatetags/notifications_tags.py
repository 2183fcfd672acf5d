"""`{% unread_messages as n %}`: the signed-in person's unread messages on this site (0 on the platform host)."""

from django import template
from django.db import connection
from django_tenants.utils import get_public_schema_name

from notifications import services

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_messages(context) -> int:
    request = context.get("request")
    if request is None or connection.schema_name == get_public_schema_name():
        return 0  # the platform host has no messages (they live in each site's schema)
    return services.unread_count(request.user)
