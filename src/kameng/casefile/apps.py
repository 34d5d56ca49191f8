from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasefileConfig(AppConfig):
    """案卷: what a buyer takes elsewhere when the platform's own route is not enough (SPEC §10):
    the evidence bundle, complaints about handling, and the 12315 pack. It reads cases, orders,
    payments and conversations, so it sits above support."""

    name = "kameng.casefile"
    verbose_name = _("案卷与投诉")

    def ready(self):
        from . import receivers, retention

        receivers.connect()  # a missed platform deadline or a broken promise raises a complaint by itself
        retention.connect()  # cases, messages and evidence are kept 3 years
