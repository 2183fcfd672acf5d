from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "federation"
    verbose_name = "国家平台对接"

    def ready(self):
        from . import signals  # noqa: F401  (page publish/unpublish/delete → catalogue record + outbox)
