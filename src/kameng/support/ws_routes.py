"""WebSocket routes (served by kameng.asgi)."""

from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/support/c/<int:conversation_id>/", consumers.ChatConsumer.as_asgi()),
]
