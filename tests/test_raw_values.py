"""No raw stored value (unknown, failed, success, web, pending…) shows in the Chinese interface: every
enum a page renders is its label. The main pages of every role are walked over the demo shop plus
cases in several stages, and their visible text is checked word by word."""

import re
from html.parser import HTMLParser

import pytest
from django.db import models
from django.urls import reverse
from django.utils import translation

from kameng.accounts.models import User
from kameng.orders.models import Order
from kameng.refunds.models import RefundCase
from tests.refunds.test_pages import custom_service_order, png, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _chinese_by_default():
    """The shop's data is written as a Chinese-speaking shop writes it; a page request in English
    leaves English active in this thread, so put the default back around each test."""
    translation.activate("zh-hans")
    yield
    translation.activate("zh-hans")


def _choices_classes():
    found, todo = [], [models.TextChoices]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("kameng."):
                found.append(sub)
    return found


def raw_words() -> set[str]:
    """Every TextChoices value of the project that is an ASCII word (what a raw value looks like)."""
    return {v for cls in _choices_classes() for v in cls.values if re.fullmatch(r"[a-z][a-z_]*", v)}


def chinese_labels() -> set[str]:
    with translation.override("zh-hans"):
        return {str(label) for cls in _choices_classes() for label in cls.labels}


class _Visible(HTMLParser):
    """The page's visible text (no script, style, attribute values) and, separately, the text of
    the elements that show labels: badges and table cells."""

    def __init__(self):
        super().__init__()
        self.text, self.labelled, self._skip, self._stack = [], [], 0, []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "title"):
            self._skip += 1
        cls = dict(attrs).get("class") or ""
        self._stack.append(tag in ("td", "th") or "badge" in cls.split())

    def handle_endtag(self, tag):
        if tag in ("script", "style", "title"):
            self._skip -= 1
        if self._stack:
            self._stack.pop()

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)
            if any(self._stack):
                self.labelled.append(data)


def visible(html: str) -> tuple[str, str]:
    parser = _Visible()
    parser.feed(html)
    return " ".join(parser.text), " ".join(parser.labelled)


def words(text: str) -> set[str]:
    return set(re.findall(r"(?<![A-Za-z0-9_./:@-])[a-z][a-z_]*(?![A-Za-z0-9_.:@-])", text))


@pytest.fixture
def shop(client):
    """The demo shop, plus a dispute in each of several stages filed and answered through the pages."""
    from kameng.ops.demo import load_demo

    load_demo()
    buyer = User.objects.get(username="zhangsan")
    agent = User.objects.get(username="agent1")
    waiting = custom_service_order(buyer)  # awaiting the seller
    client.force_login(buyer)
    submit(client, waiting, reason="other", description="没有按承诺交付")
    refused = custom_service_order(buyer)  # seller refused: platform review, claimed by an agent
    submit(client, refused, reason="other", description="没有按承诺交付")
    case = RefundCase.objects.get(order=refused)
    client.force_login(refused.seller.owner)
    client.post(
        reverse("refunds:seller_detail", args=[case.pk]),
        {"action": "refuse", "note": "已按要求交付", "files": [png("d.png")]},
    )
    client.force_login(agent)
    client.post(reverse("refunds:staff_detail", args=[case.pk]), {"action": "claim"})
    cancelled = custom_service_order(buyer)
    client.force_login(buyer)
    submit(client, cancelled, reason="other")
    client.post(
        reverse("refunds:buyer_action", args=[RefundCase.objects.get(order=cancelled).pk]),
        {"action": "cancel"},
    )
    client.logout()
    return {"buyers": ["zhangsan", "wangwu"], "sellers": ["seller_star", waiting.seller.owner.username]}


def pages_of(shop):
    """(username, url) for the main pages of every role."""
    for name in shop["buyers"]:
        yield name, reverse("orders:list")
        yield name, reverse("wallet:home")
        yield name, reverse("refunds:my_cases")
        for order in Order.objects.filter(buyer__username=name):
            yield name, reverse("orders:detail", args=[order.no])
        for case in RefundCase.objects.filter(buyer__username=name):
            yield name, reverse("refunds:detail", args=[case.pk])
    for name in shop["sellers"]:
        yield name, reverse("orders:seller_home")
        yield name, reverse("refunds:seller_cases")
        for order in Order.objects.filter(seller__owner__username=name)[:10]:
            yield name, reverse("orders:seller_detail", args=[order.no])
        for case in RefundCase.objects.filter(order__seller__owner__username=name):
            yield name, reverse("refunds:seller_detail", args=[case.pk])
    yield "agent1", reverse("refunds:staff_queue")
    yield "agent1", reverse("refunds:staff_queue") + "?stage=all"
    for case in RefundCase.objects.all():
        yield "agent1", reverse("refunds:staff_detail", args=[case.pk])


def without_data(text: str) -> str:
    """The text minus what people named (products, shops, nicknames): a product may be called
    "… 直充" in any language, and that is its name, not a label."""
    from kameng.catalog.models import Product, Seller

    names = [*Product.objects.values_list("name", flat=True), *Seller.objects.values_list("name", flat=True)]
    names += [n for n in User.objects.values_list("display_name", flat=True) if n]
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    return text


def walk(client, shop, language):
    client.cookies["django_language"] = language
    seen = []
    for name, url in pages_of(shop):
        client.force_login(User.objects.get(username=name))
        page = client.get(url)
        assert page.status_code == 200, url
        text, labelled = visible(page.content.decode())
        seen.append((url, text, without_data(labelled)))
    return seen


def test_no_raw_enum_value_shows_in_the_chinese_pages(client, shop):
    raw = raw_words()
    assert {"unknown", "failed", "success", "web", "pending"} <= raw
    leaks = {}
    for url, text, _labelled in walk(client, shop, "zh-hans"):
        found = words(text) & raw
        if found:
            leaks[url] = sorted(found)
    assert leaks == {}


def test_no_chinese_label_shows_in_the_english_pages(client, shop):
    labels = chinese_labels()
    leaks = {}
    for url, _text, labelled in walk(client, shop, "en"):
        # a label shows as a whole word of a badge or table cell ("… · 成功"), not inside a sentence
        # someone wrote (the seller's "已完成降重" is theirs)
        found = set(re.split(r"[\s·:：，,。;；()（）/|]+", labelled)) & labels
        if found:
            leaks[url] = sorted(found)
    assert leaks == {}
