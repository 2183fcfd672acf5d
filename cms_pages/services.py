from __future__ import annotations

from wagtail.models import Locale, Page

from .models import HomePage


def ensure_home_page(title: str) -> HomePage:
    """The tenant's home page under the tree root, replacing Wagtail's placeholder welcome page."""
    root = Page.get_first_root_node()
    home = HomePage.objects.first()
    if home is None:
        locale = Locale.get_default()
        placeholder = Page.objects.filter(depth=2, content_type__model="page", content_type__app_label="wagtailcore")
        for page in placeholder:
            page.slug = f"placeholder-{page.pk}"
            page.save(update_fields=["slug"])
        home = HomePage(title=title, slug="home", locale=locale, seo_title=title)
        root.add_child(instance=home)
        home.save_revision().publish()
        from wagtail.models import Site

        Site.objects.update(root_page=home)
        for page in placeholder:
            page.delete()
    elif home.title != title:
        home.title = title
        home.seo_title = title
        home.save_revision().publish()
    return home
