from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "平台核心"

    def ready(self) -> None:
        from . import content_types, localhost

        localhost.install()
        content_types.install()
        self.connect_page_cache()
        self.public_page_urls()

    @staticmethod
    def public_page_urls() -> None:
        """Every Wagtail page's full URL on its tenant's primary public URL (scheme, host, port).

        Wagtail builds it from its Site row's hostname and port, which carry neither the scheme
        nor the port the platform is served on, nor the primary domain the operator chose. Done on
        Page itself so page types of every app (and plain Page objects) follow, not only those
        that remember a mixin (decision 0017)."""
        from wagtail.models import Page

        if getattr(Page.get_url_parts, "_public_url", False):
            return
        wagtail_url_parts = Page.get_url_parts

        def get_url_parts(self, request=None):
            parts = wagtail_url_parts(self, request)
            if parts is None:
                return None
            from .urls_util import public_base_url

            site_id, _wagtail_root_url, page_path = parts
            return site_id, public_base_url(), page_path

        get_url_parts._public_url = True
        Page.get_url_parts = get_url_parts

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
