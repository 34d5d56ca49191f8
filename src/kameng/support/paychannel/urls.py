"""Mounted at /channels/pay/: the payment channels' complaint webhook (a door: keep it where it is)."""

from django.urls import path

from . import views

app_name = "paychannel"
urlpatterns = [path("<str:channel>/complaints/", views.notify, name="notify")]
