"""Certificates: issued by a tenant, PDF with Chinese text and QR, public verification on the issuing tenant only."""

from io import BytesIO

import pypdf
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context

from certificates import services
from certificates.models import KIND_VOLUNTEER_SERVICE, Certificate
from tenants.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

ZJ = "zhejiang.culture.localhost"
SC = "sichuan.culture.localhost"
User = get_user_model()


@pytest.fixture
def holder():
    return User.objects.create_user(username="cert_holder", password=DEMO_PASSWORD)


def _issue(holder, schema="zhejiang", **overrides) -> Certificate:
    arguments = {
        "kind": KIND_VOLUNTEER_SERVICE,
        "holder": holder,
        "holder_name": "欧阳明月",
        "title": "志愿服务记录证明",
        "lines": [("服务时长", "126.5 小时"), ("服务期间", "2025-03-01 至 2026-11-30")],
        "reference": "volunteers.Volunteer:1",
    }
    arguments.update(overrides)
    with schema_context(schema):
        return services.issue_certificate(**arguments)


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(BytesIO(data))
    return "".join(page.extract_text() for page in reader.pages)


def test_issued_certificate_keeps_only_the_masked_name_and_an_unguessable_code(holder):
    certificate = _issue(holder)
    assert certificate.holder_name_masked == "欧***"
    assert certificate.issuer_name == "浙江文化云"
    assert len(certificate.code) == 16 and certificate.code.isalnum()
    other = _issue(holder)
    assert other.code != certificate.code
    with schema_context("zhejiang"):
        stored = Certificate.objects.filter(pk=certificate.pk).values()[0]
    assert "欧阳明月" not in str(stored)


def test_pdf_carries_chinese_text_code_and_verification_url_of_the_issuing_tenant(holder):
    certificate = _issue(holder)
    with schema_context("zhejiang"):
        data = services.render_certificate_pdf(certificate)
        url = services.verification_url(certificate)
    assert data.startswith(b"%PDF")
    text = _pdf_text(data)
    for expected in [
        "志愿服务记录证明",
        "兹证明 欧***",
        "服务时长：126.5 小时",
        "2025-03-01 至 2026-11-30",
        "颁发单位：浙江文化云",
        certificate.display_code,
    ]:
        assert expected in text, expected
    assert "欧阳明月" not in text
    assert url == f"http://{ZJ}:8000/verify/{certificate.code}/"
    assert url in text.replace("\n", "")


def test_verification_page_shows_masked_name_what_was_certified_and_the_issuer(client, holder):
    certificate = _issue(holder)
    response = client.get(f"/verify/{certificate.code}/", HTTP_HOST=ZJ)
    html = response.content.decode()
    assert response.status_code == 200
    assert "证书有效" in html and "欧***" in html and "126.5 小时" in html and "浙江文化云" in html
    assert "欧阳明月" not in html
    assert response["Cache-Control"].startswith("max-age=0")
    pdf = client.get(f"/verify/{certificate.code}/pdf/", HTTP_HOST=ZJ)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


def test_typed_code_is_forgiving_about_case_dashes_and_lookalike_letters(client, holder):
    certificate = _issue(holder)
    typed = certificate.display_code.lower().replace("0", "o").replace("1", "l")
    response = client.get("/verify/", {"code": f" {typed} "}, HTTP_HOST=ZJ)
    assert response.status_code == 302
    assert response["Location"] == f"/verify/{certificate.code}/"


def test_malformed_code_gets_a_chinese_message_naming_the_field(client):
    response = client.get("/verify/", {"code": "12345"}, HTTP_HOST=ZJ)
    assert response.status_code == 400
    assert "验证码：请输入证书上的 16 位验证码" in response.content.decode()
    assert client.get("/verify/", HTTP_HOST=ZJ).status_code == 200


def test_unknown_code_is_said_plainly(client):
    response = client.get("/verify/ABCDEFGHJKMNPQRS/", HTTP_HOST=ZJ)
    assert response.status_code == 404
    assert "未找到该证书" in response.content.decode()
    assert client.get("/verify/ABCDEFGHJKMNPQRS/pdf/", HTTP_HOST=ZJ).status_code == 404


def test_revoked_certificate_says_so_with_when_and_why_and_has_no_pdf(client, holder):
    certificate = _issue(holder)
    with schema_context("zhejiang"):
        with pytest.raises(ValidationError):
            services.revoke_certificate(certificate, reason="  ")
        first = services.revoke_certificate(certificate, reason="服务时长记录有误")
        again = services.revoke_certificate(certificate, reason="另一个原因")
    assert again.revoked_at == first.revoked_at and again.revocation_reason == "服务时长记录有误"
    html = client.get(f"/verify/{certificate.code}/", HTTP_HOST=ZJ).content.decode()
    assert "该证书已撤销" in html and "服务时长记录有误" in html and "证书有效" not in html
    assert client.get(f"/verify/{certificate.code}/pdf/", HTTP_HOST=ZJ).status_code == 404


def test_a_code_from_one_tenant_is_unknown_on_another(client, holder):
    certificate = _issue(holder, schema="zhejiang")
    response = client.get(f"/verify/{certificate.code}/", HTTP_HOST=SC)
    assert response.status_code == 404
    assert "未找到该证书" in response.content.decode() and "欧***" not in response.content.decode()
    assert client.get(f"/verify/{certificate.code}/pdf/", HTTP_HOST=SC).status_code == 404
    with schema_context("sichuan"):
        assert services.find_certificate(certificate.code) is None


def test_holder_sees_own_certificates_of_this_tenant_only(client, holder):
    zhejiang = _issue(holder, schema="zhejiang")
    sichuan = _issue(holder, schema="sichuan", title="四川志愿服务记录证明")
    someone_else = User.objects.create_user(username="cert_other", password=DEMO_PASSWORD)
    not_mine = _issue(someone_else, schema="zhejiang", title="别人的证明")
    assert client.get("/me/certificates/", HTTP_HOST=ZJ).status_code == 302
    client.login(username="cert_holder", password=DEMO_PASSWORD)
    html = client.get("/me/certificates/", HTTP_HOST=ZJ).content.decode()
    assert zhejiang.display_code in html
    assert sichuan.display_code not in html and not_mine.display_code not in html


def test_a_certificate_needs_a_tenant_a_title_and_well_formed_lines(holder):
    with pytest.raises(ValidationError):
        services.issue_certificate(kind="x", holder=holder, holder_name="张三", title="证明")  # public schema
    with pytest.raises(ValidationError):
        _issue(holder, title=" ")
    with pytest.raises(ValidationError):
        _issue(holder, lines=[("服务时长", "")])
    with pytest.raises(ValidationError):
        _issue(holder, lines=[("第几行", "内容")] * 13)
