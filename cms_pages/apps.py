from django.apps import AppConfig


class CmsPagesConfig(AppConfig):
    name = "cms_pages"
    verbose_name = "页面"

    def ready(self) -> None:
        from .privacy import connect_mirroring

        connect_mirroring()
