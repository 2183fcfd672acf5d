from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/live/<int:page_id>/", consumers.LiveCommentsConsumer.as_asgi()),
]
