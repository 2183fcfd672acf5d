from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "在线培训"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # National courses travel through the federation module as the "national-courses" set.
        from . import federation_kind

        federation_kind.register()
