from __future__ import annotations

from wagtail.models import Locale, Page

from .models import HomePage


def ensure_home_page(title: str) -> HomePage:
    """The tenant's home page under the tree root, replacing Wagtail's placeholder welcome page.

    The caller points the Wagtail Site at it (deleting the placeholder deletes the Site
    that referenced it).
    """
    home = HomePage.objects.filter(locale=Locale.get_default()).first()
    if home is None:
        # Deleted before the home page exists, so no task is ever queued for a page that is gone.
        Page.objects.filter(depth=2, content_type__app_label="wagtailcore", content_type__model="page").delete()
        home = HomePage(title=title, slug="home", locale=Locale.get_default(), seo_title=title)
        Page.get_first_root_node().add_child(instance=home)
        home.save_revision().publish()
    elif home.title != title:
        home.title = title
        home.seo_title = title
        home.save_revision().publish()
    return home
