"""Records of cases, messages and evidence are kept at least 3 years (电子商务法 第三十一条): nobody,
admins included, deletes them earlier. The admin offers no delete for them; this guard refuses a
delete through the ORM from anywhere (a script, a shell, a cascade) while a record is younger."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db.models.signals import pre_delete
from django.utils import timezone

from kameng.evidence.models import Event
from kameng.refunds.models import Attachment, RefundCase
from kameng.support.models import Call, Commitment, Conversation, Message, MessageAttachment

from .models import Complaint

KEEP_FOR = timedelta(days=3 * 366)
# model → the field that says when the record was made
KEPT = {
    RefundCase: "created_at",
    Attachment: "created_at",
    Event: "created_at",
    Conversation: "created_at",
    Message: "created_at",
    MessageAttachment: "created_at",
    Call: "at",
    Commitment: "created_at",
    Complaint: "created_at",
}


class RecordKept(PermissionDenied):
    """A delete refused: the record is within its retention period."""


def refuse_early_delete(sender, instance, **kwargs) -> None:
    made = getattr(instance, KEPT[sender])
    if made is not None and made > timezone.now() - KEEP_FOR:
        raise RecordKept(
            f"{sender._meta.label} #{instance.pk} is kept until {(made + KEEP_FOR):%Y-%m-%d} (电子商务法 第三十一条)"
        )


def connect() -> None:
    for model in KEPT:
        pre_delete.connect(
            refuse_early_delete, sender=model, dispatch_uid=f"casefile.retention.{model._meta.label}"
        )
