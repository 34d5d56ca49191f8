from django.urls import path

from . import views
from .mail import views as mail_views
from .paychannel import views as paychannel

app_name = "support"
urlpatterns = [
    path("", views.help_centre, name="help"),
    path("start/", views.start, name="start"),
    path("order/<str:no>/", views.order_chat, name="order"),
    path("c/<int:conversation_id>/", views.conversation, name="conversation"),
    path("c/<int:conversation_id>/messages/", views.conversation_messages, name="conversation_messages"),
    path("a/<int:file_id>/", views.attachment, name="attachment"),
    path("wechat/", views.wechat_binding, name="wechat"),
    path("staff/", views.staff_queue, name="staff_queue"),
    path("staff/complaints/", paychannel.staff_list, name="staff_complaints"),
    path("staff/next/", views.staff_next, name="staff_next"),
    path("staff/c/<int:conversation_id>/", views.staff_conversation, name="staff_conversation"),
    path("staff/mail/", mail_views.staff_mail, name="staff_mail"),
    path("staff/mail/<int:mail_id>/raw/", mail_views.staff_mail_raw, name="staff_mail_raw"),
    path(
        "staff/c/<int:conversation_id>/messages/",
        views.staff_conversation_messages,
        name="staff_conversation_messages",
    ),
]
