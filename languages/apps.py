from django.apps import AppConfig


class LanguagesConfig(AppConfig):
    name = "languages"
    verbose_name = "语言"

    def ready(self):
        from . import signals  # noqa: F401
