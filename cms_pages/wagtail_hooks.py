"""Serving pages: a members-only restriction (仅本站成员) shuts out accounts of other sites."""

from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from wagtail import hooks

from .privacy import refuses_non_member


@hooks.register("before_serve_page")
def members_only(page, request, serve_args, serve_kwargs):
    if refuses_non_member(page, request.user):
        response = TemplateResponse(request, "cms_pages/members_only.html", {"page_title": page.title}, status=403)
        add_never_cache_headers(response)
        return response
    return None
