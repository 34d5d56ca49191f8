"""A complaint about the handling of a case (投诉) is part of the case's story: filed and answered,
each is an event on its timeline. The complaint itself (who answers it, by when) is kept by
kameng.casefile, which calls these inside its own transaction."""

from datetime import datetime

from django.utils.translation import gettext_noop

from kameng.sentences import Sentence

from ..models import EventKind
from .common import lock_case


def record_complaint(
    *, case_id: int, actor, complaint_id: int, source: str, due: datetime, clause: str
) -> None:
    change = lock_case(case_id)
    change.event(
        EventKind.COMPLAINED,
        actor=actor,
        clause=clause,
        complaint=complaint_id,
        source=source,
        due=due.isoformat(),
    )
    change.save()


def record_complaint_answer(*, case_id: int, actor, complaint_id: int, answer: str) -> None:
    change = lock_case(case_id)
    change.event(EventKind.COMPLAINT_ANSWERED, actor=actor, complaint=complaint_id, answer=answer)
    change.notify(
        change.case.buyer_id,
        Sentence(gettext_noop("您对退款申请 #%(id)d 的投诉已有主管答复。"), id=change.case.pk),
    )
    change.save()
