from django.apps import AppConfig


class RefundsConfig(AppConfig):
    name = "kameng.refunds"
    label = "refunds"

    def ready(self):
        from .hooks import register

        register()  # the order page asks through orders.hooks what was refunded per payment
