from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/campaign/<int:page_id>/", consumers.CampaignTallyConsumer.as_asgi()),
]
