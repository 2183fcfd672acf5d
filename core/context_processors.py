from django.conf import settings


def platform(request):
    return {
        "platform_domain": settings.PLATFORM_DOMAIN,
        "current_tenant": getattr(request, "tenant", None),
    }
