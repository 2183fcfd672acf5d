"""Issuing, revoking and finding certificates: the only write path (views, admin and other apps call these).

Other apps (volunteers, training) call `issue_certificate(...)` inside the tenant whose name the
certificate carries, and `render_certificate_pdf(...)` to hand it out.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.personal_data import mask_name

from .models import CODE_ALPHABET, CODE_LENGTH, Certificate

MAX_LINES = 12
MAX_LINE_LENGTH = 200
# What people type instead of the code's letters (Crockford base32): O for 0, I/L for 1.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _issuer_name() -> str:
    """The name of the tenant whose schema is active (schema_context gives no tenant object)."""
    from django_tenants.utils import get_public_schema_name, get_tenant_model

    schema = getattr(connection, "schema_name", get_public_schema_name())
    tenant = getattr(connection, "tenant", None)
    name = getattr(tenant, "name", "") if getattr(tenant, "schema_name", None) == schema else ""
    if not name and schema != get_public_schema_name():
        name = get_tenant_model().objects.filter(schema_name=schema).values_list("name", flat=True).first() or ""
    if not name:
        raise ValidationError("证书只能由站点颁发（当前没有站点）。")
    return name


def _clean_lines(lines: Iterable[Sequence[str]]) -> list[list[str]]:
    cleaned = []
    for line in lines:
        label, value = (str(part).strip() for part in line)
        if not label or not value:
            raise ValidationError("证明内容的每一行都需要名称和内容。")
        if len(label) + len(value) > MAX_LINE_LENGTH:
            raise ValidationError(f"证明内容每行不能超过 {MAX_LINE_LENGTH} 个字。")
        cleaned.append([label, value])
    if len(cleaned) > MAX_LINES:
        raise ValidationError(f"证明内容不能超过 {MAX_LINES} 行。")
    return cleaned


def issue_certificate(
    *,
    kind: str,
    holder,
    holder_name: str,
    title: str,
    lines: Iterable[Sequence[str]] = (),
    issued_by=None,
    reference: str = "",
) -> Certificate:
    """Issue a certificate in the current tenant; the holder's name is stored masked (张**) only.

    `lines` are (label, value) pairs shown in order, e.g. ("服务时长", "126.5 小时").
    """
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "请填写证书名称。"})
    if not (holder_name or "").strip():
        raise ValidationError({"holder_name": "持有人姓名不能为空。"})
    certificate = Certificate(
        kind=kind,
        holder=holder,
        holder_name_masked=mask_name(unicodedata.normalize("NFKC", holder_name).strip()),
        title=title[:200],
        lines=_clean_lines(lines),
        issuer_name=_issuer_name(),
        reference=reference[:100],
        issued_at=timezone.now(),
        issued_by=issued_by,
    )
    # A collision of 80 random bits will not happen; the unique constraint would refuse it anyway.
    certificate.save()
    return certificate


@transaction.atomic
def revoke_certificate(certificate: Certificate, *, reason: str, revoked_by=None) -> Certificate:
    """Revoke for good (idempotent: a second call keeps the first time and reason)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写撤销原因。"})
    locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.revocation_reason = reason[:1000]
        locked.revoked_by = revoked_by
        locked.save(update_fields=["revoked_at", "revocation_reason", "revoked_by"])
    return locked


def normalize_code(value: str) -> str:
    """The stored form of a typed code: upper case, no spaces or dashes, look-alike letters mapped.

    Returns "" for anything that cannot be a code (wrong length or characters).
    """
    if not isinstance(value, str) or len(value) > 64:
        return ""
    text = unicodedata.normalize("NFKC", value).upper().translate(_LOOKALIKES)
    text = "".join(ch for ch in text if ch not in " -_\t\r\n")
    if len(text) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in text):
        return ""
    return text


def find_certificate(code: str) -> Certificate | None:
    """The certificate of the current tenant with this code (revoked ones included), or None."""
    normalized = normalize_code(code)
    if not normalized:
        return None
    return Certificate.objects.filter(code=normalized).first()


def certificates_of(holder, *, kind: str | None = None):
    found = Certificate.objects.filter(holder=holder)
    return found.filter(kind=kind) if kind else found


def verification_url(certificate: Certificate) -> str:
    """Absolute URL of the verification page on the issuing tenant's primary domain."""
    from core.urls_util import current_site_base_url

    return current_site_base_url() + reverse("certificate_verify", args=[certificate.code])


def render_certificate_pdf(certificate: Certificate) -> bytes:
    from .pdf import render_pdf

    return render_pdf(certificate, verification_url(certificate))
