from django.conf import settings
from django.db import connection
from django_tenants.utils import get_public_schema_name


def platform(request):
    on_platform_host = connection.schema_name == get_public_schema_name()
    return {
        "platform_domain": settings.PLATFORM_DOMAIN,
        "current_tenant": getattr(request, "tenant", None),
        # Tenant-only links (消息, 我的预约 ...) are left out of shared pages on the platform host.
        "on_platform_host": on_platform_host,
        # Pages shared by the platform host and tenant sites (login, registration...) extend
        # the platform frame on the platform host and the tenant's branded theme elsewhere.
        "base_template": "core/platform_base.html" if on_platform_host else "themes/base.html",
    }
