from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "kameng.support"
    verbose_name = _("客服")

    def ready(self):
        # The sandbox payment channels answer complaint calls without a network, like the sandbox
        # gateway; only with KAMENG_SANDBOX on (a real channel's client registers the same way).
        from django.conf import settings

        from .models import PayChannel
        from .paychannel.client import SandboxPayChannel, register
        from .paychannel.services import receive

        if settings.SANDBOX:
            for channel in PayChannel.values:
                register(channel, SandboxPayChannel(channel, deliver=receive))

        from .timeline import register as show_messages_on_cases

        show_messages_on_cases()  # the refund case page shows the order's customer-service messages
