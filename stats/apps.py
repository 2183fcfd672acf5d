from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "stats"
    verbose_name = "统计分析"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Page-cache hits never reach Django's middleware: the cache tells us about them.
        from core import page_cache

        from . import collect

        if collect.count_cached_hit not in page_cache.hit_listeners:
            page_cache.hit_listeners.append(collect.count_cached_hit)
