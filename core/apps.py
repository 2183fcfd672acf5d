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
        from django.db.models.signals import m2m_changed, post_delete, post_save
        from wagtail.models import CollectionViewRestriction, Page, PageViewRestriction, Site
        from wagtail.signals import page_published, page_unpublished, post_page_move

        from .page_cache import content_changed

        for signal in (page_published, page_unpublished, post_page_move):
            signal.connect(content_changed, dispatch_uid=f"page-cache-{signal}")
        post_delete.connect(content_changed, sender=Page, dispatch_uid="page-cache-page-delete")
        # Site settings (branding, navigation) appear on every page; the Site itself (host, root
        # page) is cached per content version too (core.middleware.remember_wagtail_site).
        post_save.connect(_settings_changed, dispatch_uid="page-cache-settings")
        post_delete.connect(content_changed, sender=Site, dispatch_uid="page-cache-site-delete")
        # Privacy: a restriction added, changed or removed (on a page or a document collection)
        # changes what anonymous visitors may see and what every list shows, at once.
        for model in (PageViewRestriction, CollectionViewRestriction):
            name = model._meta.model_name
            post_save.connect(content_changed, sender=model, dispatch_uid=f"page-cache-{name}-save")
            post_delete.connect(content_changed, sender=model, dispatch_uid=f"page-cache-{name}-delete")
            m2m_changed.connect(content_changed, sender=model.groups.through, dispatch_uid=f"page-cache-{name}-groups")


def _settings_changed(sender, **kwargs) -> None:
    from wagtail.contrib.settings.models import BaseSiteSetting
    from wagtail.images.models import AbstractImage
    from wagtail.models import Site

    # Images too: cached pages and fragments hold the URLs of their renditions.
    if issubclass(sender, (BaseSiteSetting, Site, AbstractImage)):
        from .page_cache import content_changed

        content_changed()
