from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "统一账号"

    def ready(self) -> None:
        from django.conf import settings

        from . import oidc, signals  # noqa: F401 - connects the session tracking handlers

        # django-oauth-toolkit reads its signing key from its settings dict; ours comes
        # from the environment or, in development, a key file under var/.
        if settings.OAUTH2_PROVIDER.get("OIDC_ENABLED") and not settings.OAUTH2_PROVIDER.get("OIDC_RSA_PRIVATE_KEY"):
            settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"] = oidc.rsa_private_key()
        # `iss` is the platform's configured URL (the README's discovery URL), never the request's Host.
        settings.OAUTH2_PROVIDER.setdefault("OIDC_ISS_ENDPOINT", oidc.issuer())
