from django.apps import AppConfig


class WorkdaysConfig(AppConfig):
    name = "kameng.workdays"
    label = "workdays"
