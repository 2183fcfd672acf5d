"""Certificates a tenant issues (志愿服务记录证明, 培训结业证书 ...), verifiable by a public code.

One table per tenant schema: a code issued by 浙江 exists only in 浙江's schema, so the
verification page of another tenant says it is unknown (by construction, not by a filter).
Only the masked holder name is stored: the certificate and its verification page are meant to
be shown to strangers, and nothing here needs the full name again.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models

# Crockford-style alphabet: no I, L, O, U (read aloud or typed from paper without confusion).
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# 16 characters of a 32-letter alphabet = 80 random bits: guessing a valid code is hopeless
# even at millions of tries, so the public page needs no other secret.
CODE_LENGTH = 16

KIND_VOLUNTEER_SERVICE = "volunteer_service"
KIND_TRAINING = "training"
# Labels of the kinds other apps issue; an unknown kind still works and shows its own name.
KIND_LABELS = {
    KIND_VOLUNTEER_SERVICE: "志愿服务记录证明",
    KIND_TRAINING: "培训结业证书",
}


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class Certificate(models.Model):
    kind = models.CharField("类别", max_length=40, db_index=True)
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="持有人", on_delete=models.PROTECT, related_name="+"
    )
    holder_name_masked = models.CharField("持有人（脱敏）", max_length=40)
    title = models.CharField("证书名称", max_length=200)
    # What is certified, in order: [["服务时长", "126.5 小时"], ["服务期间", "2025-03-01 至 2026-11-30"]].
    lines = models.JSONField("证明内容", default=list)
    issuer_name = models.CharField("颁发单位", max_length=200)
    # Who asked for it (e.g. "volunteers.Volunteer:12"): lets an app find its own certificates.
    reference = models.CharField(max_length=100, blank=True, db_index=True)
    code = models.CharField("验证码", max_length=CODE_LENGTH, unique=True, default=new_verification_code)
    issued_at = models.DateTimeField("颁发时间")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revocation_reason = models.TextField("撤销原因", blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "证书"
        verbose_name_plural = "证书"
        ordering = ["-issued_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.title} {self.display_code}"

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def display_code(self) -> str:
        """ABCD-EFGH-JKMN-PQRS: easier to read out and type from paper."""
        return "-".join(self.code[i : i + 4] for i in range(0, len(self.code), 4))
