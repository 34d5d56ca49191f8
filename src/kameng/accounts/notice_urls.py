from django.urls import path

from . import notices

app_name = "notices"
urlpatterns = [
    path("", notices.centre, name="centre"),
    path("<int:notice_id>/read/", notices.read, name="read"),
    path("read-all/", notices.read_all, name="read_all"),
    path("settings/", notices.preferences, name="preferences"),
    path("unread.json", notices.unread_json, name="unread_json"),
]
