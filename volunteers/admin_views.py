"""Wagtail admin screens of volunteers: the site's 志愿服务记录证明, and revoking one with a reason.

Thin like the other views: the rules (who may, a reason, not twice) are in services.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render

from certificates.services import normalize_code

from . import services
from .models import Volunteer


def _require(request) -> None:
    if not services.is_coordinator(request.user):
        raise PermissionDenied("只有志愿者管理员可以管理志愿服务记录证明。")


def certificates_index(request):
    _require(request)
    found = services.service_certificates()
    q = (request.GET.get("q") or "").strip()
    if q:  # a verification code, or a volunteer number (the certificate refers to its volunteer)
        volunteer_ids = Volunteer.objects.filter(number=q).values_list("pk", flat=True)
        references = [f"volunteers.Volunteer:{pk}" for pk in volunteer_ids]
        found = found.filter(Q(code=normalize_code(q)) | Q(reference__in=references))
    return render(request, "volunteers/admin/certificates.html", {"certificates": found[:200], "q": q[:64]})


def certificate_revoke(request, certificate_id: int):
    _require(request)
    certificate = get_object_or_404(services.service_certificates(), pk=certificate_id)
    errors: list[str] = []
    reason = (request.POST.get("reason") or "").strip()
    if request.method == "POST":
        try:
            services.revoke_service_certificate(certificate.pk, reason=reason, by=request.user)
        except ValidationError as exc:
            errors = [m for msgs in exc.message_dict.values() for m in msgs]
        else:
            messages.success(request, f"已撤销证书 {certificate.display_code}，公开核验页面将显示“已撤销”。")
            return redirect("volunteers_admin_certificates")
    return render(
        request,
        "volunteers/admin/certificate_revoke.html",
        {"certificate": certificate, "errors": errors, "reason": reason[:1000]},
        status=400 if errors else 200,
    )
