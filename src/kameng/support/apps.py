from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "kameng.support"
    verbose_name = _("客服")

    def ready(self):
        from .timeline import register

        register()  # the refund case page shows the order's customer-service messages
