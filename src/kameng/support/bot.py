"""Answers from the facts, before a person (SPEC §8): where a refund is (from the case itself, never
a canned "审核中"), the refund form for what the platform checks by itself, and the help centre's
answers ranked by BM25 over jieba's segmentation. "转人工" is always one tap."""

import logging
import re
from dataclasses import dataclass

import jieba
from django.utils import timezone
from django.utils.translation import gettext_noop
from rank_bm25 import BM25Plus

from kameng.refunds import selectors as refunds
from kameng.refunds.models import RefundCase
from kameng.refunds.progress import progress
from kameng.sentences import Sentence

from .models import Answer, Conversation

jieba.setLogLevel(logging.WARNING)

PERSON = re.compile(r"转人工|人工客服|真人|找客服|human|agent", re.IGNORECASE)
PROGRESS = re.compile(
    r"退款.{0,6}(进度|到哪|多久|什么时候|怎么样|状态|到账)|(进度|到哪了|到账了吗)|where.*refund", re.I
)
OBJECTIVE = re.compile(
    r"没收到|未收到|没到账|未到账|没发货|未发货|扣了两次|重复扣款|重复支付|多扣|扣款两次|charged twice"
)
STOP = set("的了吗呢啊吧我你您是在有和怎么么什么如何请问一下")


@dataclass
class Reply:
    sentence: Sentence
    link: str = ""


def wants_person(text: str) -> bool:
    return bool(PERSON.search(text))


def answer(conversation: Conversation, text: str) -> Reply:
    order = conversation.order
    if PROGRESS.search(text):
        case = _latest_case(conversation)
        if case is not None:
            return _progress(case)
        if order is not None:
            return Reply(Sentence(gettext_noop("订单 %(no)s 目前没有退款申请。"), no=order.no))
    if OBJECTIVE.search(text) and order is not None:
        return Reply(
            Sentence(
                gettext_noop(
                    "未到账、重复扣款这类问题，系统会核对订单 %(no)s 的发货和支付记录，符合条件的立即退款，无需等待人工。点此申请："
                ),
                no=order.no,
            ),
            link=f"/refunds/new/{order.no}/",
        )
    found = best_answer(text)
    if found is not None:
        return Reply(Sentence(gettext_noop("%(a)s（帮助中心：%(q)s）"), a=found.answer, q=found.question))
    return Reply(Sentence(gettext_noop("暂时没有找到现成的答案。点“转人工”，客服会接着帮您处理。")))


def _latest_case(conversation: Conversation) -> RefundCase | None:
    cases = refunds.cases().filter(buyer=conversation.buyer)
    if conversation.order_id:
        cases = cases.filter(order_id=conversation.order_id)
    return cases.order_by("-created_at", "-id").first()


def _progress(case: RefundCase) -> Reply:
    """The case's own badge, holder, deadline and what happens by itself: what its page shows
    (both read `refunds.progress`), so the chat and the page never disagree."""
    shown = progress(case, viewer_is_buyer=True)
    countdown = shown["countdown"]
    if countdown:
        return Reply(
            Sentence(
                gettext_noop(
                    "您的退款申请 #%(id)d（订单 %(no)s）目前：%(stage)s。处理方：%(holder)s，时限 %(due)s（剩余 %(left)s）。%(then)s"
                ),
                id=case.pk,
                no=case.order.no,
                stage=shown["badge"]["text"],
                holder=shown["holder"],
                due=timezone.localtime(countdown["deadline"]).strftime("%Y-%m-%d %H:%M"),
                left=countdown["time_left"],
                then=countdown["if_no_action"],
            ),
            link=f"/refunds/{case.pk}/",
        )
    return Reply(
        Sentence(
            gettext_noop("您的退款申请 #%(id)d（订单 %(no)s）目前：%(stage)s。%(why)s"),
            id=case.pk,
            no=case.order.no,
            stage=shown["badge"]["text"],
            why=case.why,
        ),
        link=f"/refunds/{case.pk}/",
    )


def words(text: str) -> list[str]:
    return [
        w
        for w in jieba.cut_for_search(text.lower())
        if w.strip() and w not in STOP and not re.fullmatch(r"\W+", w)
    ]


def best_answer(text: str) -> Answer | None:
    answers = list(Answer.objects.filter(is_active=True))
    if not answers:
        return None
    corpus = [words(f"{a.question} {a.keywords}") for a in answers]
    query = words(text)
    if not query:
        return None
    # BM25+ rather than Okapi: with a help centre of a few answers Okapi's IDF is zero or negative
    # for a word that half of them share, and a real match would score nothing.
    scores = BM25Plus(corpus).get_scores(query)
    best = max(range(len(answers)), key=lambda i: scores[i])
    shared = set(query) & set(corpus[best])
    # An answer counts only if it shares a real word (two characters or more) with the question.
    if not any(len(w) >= 2 for w in shared):
        return None
    return answers[best]
