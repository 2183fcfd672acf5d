"""Public verification of certificates on the issuing tenant's site, and the holder's own list."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from . import services
from .models import CODE_LENGTH


@never_cache
def verify_form(request):
    """Type a code (from the paper certificate) and see what it certifies."""
    typed = request.GET.get("code", "")
    error = ""
    if "code" in request.GET:
        normalized = services.normalize_code(typed)
        if normalized:
            return redirect("certificate_verify", code=normalized)
        error = f"验证码：请输入证书上的 {CODE_LENGTH} 位验证码（字母和数字，可带短横线）。"
    return render(
        request,
        "certificates/verify_form.html",
        {"typed": typed[:64], "error": error},
        status=400 if error else 200,
    )


@never_cache
def verify(request, code: str):
    """What the certificate says, or plainly that the code is unknown here or revoked.

    Never cached: a revocation must show at once.
    """
    certificate = services.find_certificate(code)
    return render(
        request,
        "certificates/verify.html",
        {"certificate": certificate, "code": code[:64]},
        status=200 if certificate else 404,
    )


@never_cache
def certificate_pdf(request, code: str):
    """The PDF for whoever has the code (it shows only the masked name); none once revoked."""
    certificate = services.find_certificate(code)
    if certificate is None or certificate.is_revoked:
        raise Http404("证书不存在或已撤销")
    response = HttpResponse(services.render_certificate_pdf(certificate), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{certificate.code}.pdf"'
    return response


@login_required
def my_certificates(request):
    certificates = services.certificates_of(request.user)
    return render(request, "certificates/mine.html", {"certificates": certificates})
