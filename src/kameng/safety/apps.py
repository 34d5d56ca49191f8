from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SafetyConfig(AppConfig):
    name = "kameng.safety"
    verbose_name = _("防骗")

    def ready(self):
        from . import scam  # noqa: F401  (connects the signal that clears the compiled rules)
