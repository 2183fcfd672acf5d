"""County-level sites (县级): the third tier of public culture service, one level below a city."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from tenants import services
from tenants.models import CultureSite


def zhongshan(**overrides) -> services.NewSite:
    """Zhongshan district of Dalian (210202): the demo city `dalian` is its parent."""
    fields = dict(slug="zhongshan", name="中山区文化云", kind="county", region_code="210202", parent_slug="dalian")
    fields.update(overrides)
    return services.NewSite(**fields)


def _sites() -> list[str]:
    connection.set_schema_to_public()
    return sorted(CultureSite.objects.values_list("schema_name", flat=True))


def test_a_county_site_under_its_city_is_served_linked_and_listed(committed_db, client):
    from federation.services import uplink

    site = services.create_culture_site(zhongshan())

    assert (site.kind, site.parent.schema_name, site.get_kind_display()) == ("county", "dalian", "县级")
    assert site.is_served and schema_exists("zhongshan")
    response = client.get("/", HTTP_HOST="zhongshan.culture.localhost")
    assert response.status_code == 200
    assert "<h1>中山区文化云</h1>" in response.content.decode()
    with schema_context("zhongshan"):
        assert uplink() is not None  # reports to the national site like a province or a city

    directory = client.get("/", HTTP_HOST="culture.localhost").content.decode()
    assert "http://zhongshan.culture.localhost:8000/" in directory
    # Listed under its city, which is listed under its province.
    liaoning, dalian = directory.index("辽宁文化云"), directory.index("大连文化云")
    county = directory.index("中山区文化云")
    assert liaoning < dalian < county
    assert directory.index("</li>", dalian) > county  # inside the city's entry


def test_a_county_directly_under_its_province(committed_db, client):
    """省直辖县级行政区划 (xx90xx, here 济源市 of Henan) have no prefecture: their parent is the province."""
    services.create_culture_site(
        services.NewSite(slug="henan", name="河南文化云", kind="province", region_code="410000", parent_slug="national")
    )
    with pytest.raises(services.ProvisioningError) as excinfo:
        services.create_culture_site(
            services.NewSite(
                slug="jiyuan", name="济源文化云", kind="county", region_code="419001", parent_slug="dalian"
            )
        )
    assert "省级站点" in " ".join(excinfo.value.message_dict["parent"])

    site = services.create_culture_site(
        services.NewSite(slug="jiyuan", name="济源文化云", kind="county", region_code="419001", parent_slug="henan")
    )
    assert site.parent.schema_name == "henan"
    directory = client.get("/", HTTP_HOST="culture.localhost").content.decode()
    henan, county = directory.index("河南文化云"), directory.index("济源文化云")
    assert henan < county < directory.index("</li>", henan)
    switcher = client.get("/", HTTP_HOST="jiyuan.culture.localhost").content.decode()
    assert 'href="http://jiyuan.culture.localhost:8000/" aria-current="page"' in switcher


BAD_COUNTIES = [
    (dict(region_code="330102"), "parent", "不属于"),  # a Hangzhou district under Dalian
    (dict(region_code="219999"), "region_code", "未知"),
    (dict(region_code="210200"), "region_code", "县级"),  # Dalian itself: a prefecture code
    (dict(region_code="210000", parent_slug="liaoning"), "region_code", "县级"),
    (dict(parent_slug="liaoning"), "parent", "上级必须是市级站点"),  # it has a prefecture: its city
    (dict(parent_slug="national"), "parent", "市级站点"),
    (dict(parent_slug=None), "parent", "必须指定"),
    (dict(parent_slug="nowhere"), "parent", "不存在"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_COUNTIES)
def test_bad_county_input_is_refused_and_leaves_nothing(committed_db, overrides, field, message):
    before = _sites()
    with pytest.raises(services.ProvisioningError) as excinfo:
        services.create_culture_site(zhongshan(**overrides))
    assert message in " ".join(excinfo.value.message_dict[field])
    assert _sites() == before and not schema_exists("zhongshan")


def test_one_site_per_county_code(committed_db):
    services.create_culture_site(zhongshan())
    with pytest.raises(services.ProvisioningError) as excinfo:
        services.create_culture_site(zhongshan(slug="zhongshan2"))
    assert "已有站点" in " ".join(excinfo.value.message_dict["region_code"])


def test_a_county_tenant_is_isolated_from_its_city(committed_db, client):
    """Cloned from the same template, the county's pages share primary keys with the city's."""
    from cms_pages.models import HomePage

    services.create_culture_site(zhongshan())
    with schema_context("zhongshan"):
        county_home = HomePage.objects.get()
        county_home.title = "中山区：本区首页"
        county_home.save_revision().publish()
    with schema_context("dalian"):
        city_home = HomePage.objects.get()
        assert city_home.title != "中山区：本区首页"

    county_html = client.get("/", HTTP_HOST="zhongshan.culture.localhost").content.decode()
    city_html = client.get("/", HTTP_HOST="dalian-culture.localhost").content.decode()
    assert "<h1>中山区：本区首页</h1>" in county_html and "<h1>大连文化云</h1>" not in county_html
    assert "中山区：本区首页" not in city_html
    with schema_context("dalian"):
        assert HomePage.objects.get(pk=county_home.pk).title == city_home.title
    # The city's editors have no account on the county's admin: its users' roles are per tenant.
    with schema_context("zhongshan"):
        from roles.models import Membership

        assert not Membership.objects.exists()


def test_the_create_command_takes_county(committed_db):
    from django.core.management import call_command

    call_command(
        *"create_culture_site --slug zhongshan --name 中山区 --kind county --parent dalian --region 210202".split()
    )
    assert CultureSite.objects.get(schema_name="zhongshan").kind == "county"
