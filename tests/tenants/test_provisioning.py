"""Creating a tenant by cloning the template; bad input leaves nothing behind."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django_tenants.utils import schema_context, schema_exists

from tenants import services
from tenants.models import CultureSite, Domain


def hangzhou(**overrides) -> services.NewSite:
    fields = dict(slug="hangzhou", name="杭州文化云", kind="city", region_code="330100", parent_slug="zhejiang")
    fields.update(overrides)
    return services.NewSite(**fields)


def test_clone_creates_a_complete_site(committed_db, client):
    site = services.create_culture_site(hangzhou(extra_domains=["hangzhou-culture.localhost"]))

    assert site.parent.schema_name == "zhejiang"
    assert schema_exists("hangzhou")
    assert sorted(Domain.objects.filter(tenant=site).values_list("domain", "is_primary")) == [
        ("hangzhou-culture.localhost", False),
        ("hangzhou.culture.localhost", True),
    ]
    with schema_context("hangzhou"):
        from django.contrib.auth.models import Group
        from wagtail.models import Site

        from cms_pages.models import HomePage
        from themes.models import Branding

        wagtail_site = Site.objects.get()
        assert (wagtail_site.hostname, wagtail_site.site_name) == ("hangzhou.culture.localhost", "杭州文化云")
        assert wagtail_site.root_page.specific.__class__ is HomePage
        assert HomePage.objects.get().title == "杭州文化云"
        assert set(Group.objects.values_list("name", flat=True)) == {
            "站点管理员",
            "编辑",
            "审核员",
            "志愿者管理员",
            "培训管理员",
            "成员",
        }
        assert Branding.for_site(wagtail_site).site_name == "杭州文化云"

    response = client.get("/", HTTP_HOST="hangzhou.culture.localhost:8000")
    assert response.status_code == 200
    assert "<h1>杭州文化云</h1>" in response.content.decode()
    assert client.get("/", HTTP_HOST="hangzhou-culture.localhost").status_code == 200


def create_hangzhou_by_command(region: str) -> None:
    args = "--slug hangzhou --name 杭州 --kind city --parent zhejiang --region".split() + [region]
    call_command("create_culture_site", *args)


def test_create_command(committed_db):
    create_hangzhou_by_command("330100")
    assert CultureSite.objects.get(schema_name="hangzhou").name == "杭州"


def _state() -> tuple:
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace ORDER BY 1")
        schemas = [row[0] for row in cursor.fetchall()]
    return (
        schemas,
        sorted(CultureSite.objects.values_list("schema_name", flat=True)),
        sorted(Domain.objects.values_list("domain", flat=True)),
    )


BAD_INPUT = [
    (dict(slug="zhejiang"), "slug", "已被使用"),
    (dict(slug="ZheJiang"), "slug", "小写"),
    (dict(slug="public"), "slug", "保留"),
    (dict(slug="template"), "slug", "保留"),
    (dict(slug="pg_temp"), "slug", "小写"),
    (dict(slug="pgcity"), "slug", "保留"),
    (dict(slug="hang-zhou"), "slug", "小写"),
    (dict(slug="1city"), "slug", "小写"),
    (dict(slug="h"), "slug", "小写"),
    (dict(slug="x" * 64), "slug", "小写"),
    (dict(slug="杭州"), "slug", "小写"),
    (dict(name="  "), "name", "请填写"),
    (dict(kind="village"), "kind", "级别"),
    (dict(kind="national", parent_slug=None, region_code="100000"), "kind", "只能有一个"),
    (dict(region_code="33010"), "region_code", "6 位数字"),
    (dict(region_code="33010x"), "region_code", "6 位数字"),
    (dict(region_code="339999"), "region_code", "未知"),
    (dict(region_code="330102"), "region_code", "地市级"),
    (dict(region_code="210200"), "region_code", "已有站点"),
    (dict(region_code="510100"), "parent", "不属于"),
    (dict(parent_slug="national"), "parent", "上级必须是省级站点"),
    (dict(parent_slug="dalian", region_code="210200"), "parent", None),
    (dict(parent_slug="nowhere"), "parent", "不存在"),
    (dict(parent_slug=None), "parent", "必须指定"),
    (dict(kind="province", region_code="320000", parent_slug="zhejiang"), "parent", "国家站点"),
    (dict(kind="province", region_code="330100", parent_slug="national"), "region_code", "省级"),
    (dict(extra_domains=["dalian-culture.localhost"]), "domains", "已被使用"),
    (dict(extra_domains=["culture.localhost"]), "domains", "已被使用"),
    (dict(extra_domains=["not a domain"]), "domains", "格式不正确"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUT)
def test_bad_input_gets_a_clear_message_and_leaves_nothing(committed_db, overrides, field, message):
    before = _state()
    with pytest.raises(services.ProvisioningError) as excinfo:
        services.create_culture_site(hangzhou(**overrides))
    assert field in excinfo.value.message_dict
    if message:
        assert message in " ".join(excinfo.value.message_dict[field])
    assert _state() == before


def test_bad_input_through_the_command_is_a_clean_error(committed_db):
    before = _state()
    with pytest.raises(CommandError, match="region_code: 未知的行政区划代码"):
        create_hangzhou_by_command("339999")
    assert _state() == before


def test_failure_half_way_removes_schema_and_rows(committed_db, monkeypatch):
    before = _state()

    def broken_set_up(site, hostname):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_set_up_site_content", broken_set_up)
    with pytest.raises(RuntimeError, match="disk full"):
        services.create_culture_site(hangzhou())
    assert _state() == before


def test_refuses_to_run_inside_a_transaction(committed_db):
    before = _state()
    with pytest.raises(RuntimeError, match="outside a transaction"), transaction.atomic():
        services.create_culture_site(hangzhou())
    assert _state() == before


def test_demo_provisioning_is_idempotent(committed_db):
    from tenants.demo import provision_demo

    def snapshot():
        counts = {}
        tenant_tables = ["wagtailcore_page", "wagtailcore_revision", "auth_group", "roles_membership"]
        tenant_tables += ["federation_record", "federation_outboxentry", "federation_subscription"]
        tenant_tables += ["bookings_session", "bookings_booking", "bookings_roomsettings", "bookings_roombooking"]
        tenant_tables += ["notifications_notification", "wagtailimages_image", "themes_branding"]
        tenant_tables += ["training_course", "training_lesson", "training_lessonprogress", "training_hourscredit"]
        tenant_tables += ["feedback_rating", "feedback_demandrequest"]
        for schema in ["public", "national", "zhejiang", "dalian", "liaoning"]:
            with schema_context(schema), connection.cursor() as cursor:
                for table in tenant_tables:
                    if schema == "public" and table != "auth_group":
                        continue
                    cursor.execute(f"SELECT count(*), coalesce(max(id), 0) FROM {table}")
                    counts[schema, table] = cursor.fetchone()
        counts["users"] = (
            _state(),
            sorted(__import__("accounts.models").models.User.objects.values_list("username", "password")),
        )
        return counts

    before = snapshot()
    provision_demo()
    assert snapshot() == before


def test_provisioning_task_creates_the_site_in_the_background(committed_db):
    from tenants.tasks import provision_culture_site_task
    from tests.core.test_tasks import run

    connection.set_schema_to_public()
    result = provision_culture_site_task.enqueue(
        slug="hangzhou", name="杭州文化云", kind="city", region_code="330100", parent_slug="zhejiang"
    )
    assert run(result.id).return_value == "hangzhou"
    assert CultureSite.objects.get(schema_name="hangzhou").name == "杭州文化云"
