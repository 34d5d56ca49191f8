from django.urls import path

from . import views

app_name = "ops"
urlpatterns = [
    path("chain/", views.chain, name="chain"),
    path("chain/run/", views.run, name="run"),
]
