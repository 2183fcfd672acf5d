from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "live"
    verbose_name = "直播互动"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from .models import SensitiveWord
        from .services import forget_sensitive_words

        # The cached list (per tenant) is dropped as soon as staff change it.
        post_save.connect(forget_sensitive_words, sender=SensitiveWord, dispatch_uid="live-sensitive-saved")
        post_delete.connect(forget_sensitive_words, sender=SensitiveWord, dispatch_uid="live-sensitive-deleted")
