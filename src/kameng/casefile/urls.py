from django.urls import path

from . import views

app_name = "casefile"
urlpatterns = [
    path("<int:case_id>/evidence.zip", views.evidence_bundle, name="bundle"),
    path("<int:case_id>/complain/", views.complain, name="complain"),
    path("<int:case_id>/12315/", views.complaint_12315, name="pack12315"),
    path("complaints/", views.complaint_queue, name="complaints"),
    path("complaints/<int:complaint_no>/", views.complaint_detail, name="complaint"),
]
