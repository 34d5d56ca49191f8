from django.urls import path

from . import views

app_name = "casefile"
urlpatterns = [
    path("<int:case_id>/evidence.zip", views.evidence_bundle, name="bundle"),
]
