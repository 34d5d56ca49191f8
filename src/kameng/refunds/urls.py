from django.urls import path

from . import views

app_name = "refunds"
urlpatterns = [
    path("", views.my_cases, name="my_cases"),
    path("new/<str:order_no>/", views.new_request, name="new"),
    path("<int:case_id>/", views.case_detail, name="detail"),
    path("<int:case_id>/act/", views.buyer_action, name="buyer_action"),
    path("<int:case_id>/files/<int:attachment_id>/", views.attachment, name="attachment"),
    path("seller/", views.seller_cases, name="seller_cases"),
    path("seller/<int:case_id>/", views.seller_detail, name="seller_detail"),
    path("staff/", views.staff_queue, name="staff_queue"),
    path("staff/<int:case_id>/", views.staff_detail, name="staff_detail"),
]
