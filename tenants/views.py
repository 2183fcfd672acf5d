"""The platform host: the directory of tenant sites and the operator's pages (thin callers of services)."""

from django.contrib import messages
from django.contrib.auth.decorators import user_passes_test
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import services
from .forms import NewSiteForm
from .models import CultureSite

operator_required = user_passes_test(lambda u: u.is_active and u.is_superuser, login_url="login")


def directory(request):
    sites = list(
        CultureSite.objects.filter(kind__in=CultureSite.SERVED_KINDS, is_active=True)
        .prefetch_related("domains")
        .order_by("region_code")
    )
    national = [s for s in sites if s.kind == CultureSite.Kind.NATIONAL]
    provinces = [s for s in sites if s.kind == CultureSite.Kind.PROVINCE]
    children: dict[int, list[CultureSite]] = {}
    for s in sites:
        if s.kind in (CultureSite.Kind.CITY, CultureSite.Kind.COUNTY):
            children.setdefault(s.parent_id, []).append(s)
    for site in sites:
        # A province lists its cities, then the counties directly under it; a city its counties.
        site.city_list = sorted(
            children.get(site.pk, []), key=lambda c: (c.kind == CultureSite.Kind.COUNTY, c.region_code)
        )
    return render(request, "tenants/directory.html", {"national": national, "provinces": provinces})


def directory_sitemap(request):
    """The platform host's sitemap: the directory of sites, on the platform's public URL.

    Each site's pages are in that site's own sitemap (a sitemap lists URLs of its own host)."""
    from django.utils.html import escape

    latest = CultureSite.objects.filter(kind__in=CultureSite.SERVED_KINDS).order_by("-created_at").first()
    lastmod = f"<lastmod>{latest.created_at.date().isoformat()}</lastmod>" if latest else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{escape(services.absolute_url('public', '/'))}</loc>{lastmod}</url>"
        "</urlset>\n"
    )
    return HttpResponse(body, content_type="application/xml")


@transaction.non_atomic_requests  # creating a tenant clones a schema outside any transaction
@operator_required
def operator_home(request):
    form = NewSiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        spec = services.NewSite(
            slug=data["slug"].strip(),
            name=data["name"],
            kind=data["kind"],
            region_code=data["region_code"].strip(),
            parent_slug=data["parent"].strip() or None,
            extra_domains=[d for d in data["extra_domains"].split(",") if d.strip()],
        )
        try:
            site = services.create_culture_site(spec)
        except services.ProvisioningError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"已创建站点“{site.name}”：{site.primary_url()}")
            return redirect("operator_home")
    sites = (
        CultureSite.objects.exclude(kind=CultureSite.Kind.PLATFORM)
        .select_related("parent")
        .prefetch_related("domains")
        .order_by("region_code")
    )
    return render(request, "tenants/operator/home.html", {"form": form, "sites": sites})


@operator_required
@require_POST
def operator_set_active(request, slug: str):
    active = request.POST.get("active") == "1"
    try:
        site = services.set_site_active(slug, active)
    except services.ProvisioningError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"站点“{site.name}”已{'启用' if active else '关闭'}。")
    return redirect("operator_home")
