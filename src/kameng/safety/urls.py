from django.urls import path

from . import views

app_name = "safety"
urlpatterns = [
    path("verify/", views.verify, name="verify"),
]
