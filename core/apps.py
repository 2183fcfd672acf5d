from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "平台核心"

    def ready(self) -> None:
        from . import content_types, localhost

        localhost.install()
        content_types.install()
        self.connect_page_cache()

    @staticmethod
    def connect_page_cache() -> None:
        from django.db.models.signals import post_delete, post_save
        from wagtail.models import Page
        from wagtail.signals import page_published, page_unpublished, post_page_move

        from .page_cache import content_changed

        for signal in (page_published, page_unpublished, post_page_move):
            signal.connect(content_changed, dispatch_uid=f"page-cache-{signal}")
        post_delete.connect(content_changed, sender=Page, dispatch_uid="page-cache-page-delete")
        # Site settings (branding, navigation) appear on every page.
        post_save.connect(_settings_changed, dispatch_uid="page-cache-settings")


def _settings_changed(sender, **kwargs) -> None:
    from wagtail.contrib.settings.models import BaseSiteSetting

    if issubclass(sender, BaseSiteSetting):
        from .page_cache import content_changed

        content_changed()
