from django.apps import AppConfig


class RefundsConfig(AppConfig):
    name = "kameng.refunds"
    label = "refunds"
