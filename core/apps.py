from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "平台核心"

    def ready(self) -> None:
        from . import localhost

        localhost.install()
