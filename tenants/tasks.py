from django_tasks import task

from . import services


@task()
def provision_culture_site_task(
    slug: str,
    name: str,
    kind: str,
    region_code: str,
    parent_slug: str | None = None,
    extra_domains: list[str] | None = None,
) -> str:
    """Create a tenant in the background (a platform task: it runs in the public schema)."""
    spec = services.NewSite(
        slug=slug,
        name=name,
        kind=kind,
        region_code=region_code,
        parent_slug=parent_slug,
        extra_domains=list(extra_domains or []),
    )
    return services.create_culture_site(spec).schema_name
