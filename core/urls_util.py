from django.conf import settings


def site_url(hostname: str, path: str = "/") -> str:
    """Absolute URL on a tenant's own host (emails and links never use a global base URL)."""
    port = settings.PLATFORM_PORT
    default_port = "443" if settings.PLATFORM_SCHEME == "https" else "80"
    netloc = hostname if port in ("", default_port) else f"{hostname}:{port}"
    return f"{settings.PLATFORM_SCHEME}://{netloc}{path}"
