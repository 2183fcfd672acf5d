from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "站点（租户）"

    def ready(self):
        from django.db.models.signals import post_delete
        from django_tenants.signals import schema_migrated

        from .models import CultureSite
        from .shared_references import after_schema_migrated

        # A removed site (a test's tenant, a site the operator deleted) leaves no trace in the
        # site switcher every tenant caches, nor in their cached pages that show it.
        post_delete.connect(_site_removed, sender=CultureSite, dispatch_uid="tenants-site-removed")
        # Tenant schemas keep no foreign keys into the public schema (decision 0026).
        schema_migrated.connect(after_schema_migrated, dispatch_uid="tenants-no-keys-into-public")


def _site_removed(sender, instance, **kwargs):
    from django_tenants.utils import get_public_schema_name, schema_context

    from themes.services import forget_site_switcher

    with schema_context(get_public_schema_name()):
        forget_site_switcher()
