from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "征集投票"
    default_auto_field = "django.db.models.BigAutoField"
