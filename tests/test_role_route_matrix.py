"""Every URL and API route, walked as each of nine people (issue 14, Tests): anonymous, buyer A and B,
seller A and B, agent, supervisor, finance and admin. Buyer A owns the order and the case the routes
point at; seller A sold it. For each route the table below says who may use it; everyone else is
turned away (sent to log in, 401, 403 or 404), sees none of A's data, and changes nothing. Nobody
ever gets a 500.

A route that is not in the table fails the test: a new page or endpoint has to say who may use it.
"""

import hashlib
import json
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from kameng.accounts.models import Role
from kameng.accounts.services import notify
from kameng.casefile.complaints import file_complaint
from kameng.catalog.models import GoodsKind
from kameng.evidence.models import Event
from kameng.inventory.models import CardKey
from kameng.orders.models import Order
from kameng.orders.services import place_order
from kameng.payments.gateway import sign
from kameng.payments.services import start_topup
from kameng.refunds.models import Attachment, RefundCase
from kameng.refunds.services import submit_refund
from kameng.sentences import Sentence
from kameng.support import services as support
from kameng.support.attachments import check_all
from kameng.support.commitments import book_callback
from kameng.support.mail.inbound import store_raw
from kameng.support.models import Message
from kameng.support.paychannel.services import receive as receive_complaint
from tests import factories as f
from tests.refunds.helpers import PNG, delivered_custom_order, evidence_for

pytestmark = pytest.mark.django_db

PEOPLE = [
    "anonymous",
    "buyer_a",
    "buyer_b",
    "seller_a",
    "seller_b",
    "agent",
    "supervisor",
    "finance",
    "admin",
]
STAFF = {"agent", "supervisor", "finance", "admin"}
USERS = set(PEOPLE) - {"anonymous"}
SELLERS = {"seller_a", "seller_b"}
EVERYONE = set(PEOPLE)
ANSWERING = STAFF - {"finance"}  # finance does not sit in the chat queue

# route (as Django lists it) → who may use it. Routes whose object is buyer A's or seller A's name
# only their owner (and staff where staff work on it); list routes open to a role are open to both
# people of that role (each sees only their own rows: checked below by the data each page shows).
MAY = {
    # public pages and doors
    "": EVERYONE,
    "p/<int:pk>/": EVERYONE,
    "accounts/login/": EVERYONE,
    "accounts/register/": EVERYONE,
    "accounts/logout/": EVERYONE,
    "accounts/password/reset/": EVERYONE,  # a forgotten password: no login, by definition
    "accounts/password/reset/sent/": EVERYONE,
    "accounts/password/reset/<uidb64>/<token>/": EVERYONE,  # the link itself is the proof
    "accounts/password/reset/complete/": EVERYONE,
    "favicon.ico": EVERYONE,
    "i18n/setlang/": EVERYONE,
    "payments/notify/<str:gateway>/": EVERYONE,  # the gateway's door: signature-checked, not a login
    "channels/pay/<str:channel>/complaints/": EVERYONE,  # payment channels' door: signature-checked
    "api/openapi.json": EVERYONE,
    "api/docs": EVERYONE,
    "api/health": EVERYONE,
    "api/auth/token": EVERYONE,
    "api/catalog/products": EVERYONE,  # GET lists the shop; POST is checked as seller-only below
    "api/catalog/products/<product_id>": EVERYONE,  # GET shows a product; its change is seller A's
    "api/refunds/clauses": EVERYONE,  # the refund terms are public: buyers read them before buying
    # anyone logged in: their own lists, wallet, buying
    "api/auth/me": USERS,
    "accounts/password/change/": USERS,
    "accounts/password/change/done/": USERS,
    "orders/": USERS,
    "orders/buy/<int:product_id>/": USERS,
    "wallet/": USERS,
    "wallet/topup/": USERS,
    "refunds/": USERS,
    "api/orders": USERS,
    "api/wallet": USERS,
    "api/wallet/topups": USERS,
    "api/refunds": USERS,
    "api/refunds/with-evidence": USERS,
    "api/refunds/checklist": USERS,
    # buyer A's own order, case and sandbox trade
    # staff read orders (an agent works next to the order), but act on none of a buyer's
    "orders/<str:no>/": {"buyer_a"} | STAFF,
    "orders/<str:no>/pay/": {"buyer_a"},
    "orders/<str:no>/reveal/": {"buyer_a"},
    "orders/<str:no>/cancel/": {"buyer_a"},
    "orders/<str:no>/confirm/": {"buyer_a"},
    "refunds/new/<str:order_no>/": {"buyer_a"},
    "refunds/<int:case_id>/": {"buyer_a", "seller_a"} | STAFF,  # the seller and staff are sent to their page
    "refunds/<int:case_id>/act/": {"buyer_a"},
    "sandbox/pay/<str:out_trade_no>/": {"buyer_a"},
    "api/orders/<no>": {"buyer_a"} | STAFF,
    "api/orders/<no>/pay": {"buyer_a"},
    "api/orders/<no>/reveal": {"buyer_a"},
    "api/orders/<no>/cancel": {"buyer_a"},
    "api/orders/<no>/confirm": {"buyer_a"},
    "api/refunds/<case_id>/cancel": {"buyer_a"},
    "api/refunds/<case_id>/follow-up": {"buyer_a"},
    "api/refunds/<case_id>/appeal": {"buyer_a"},
    "api/refunds/<case_id>/offer-answer": {"buyer_a"},
    "api/refunds/<case_id>/material": {"buyer_a"},
    # the case's evidence: its buyer, its seller and staff
    "refunds/<int:case_id>/files/<int:attachment_id>/": {"buyer_a", "seller_a"} | STAFF,
    "api/refunds/<case_id>": {"buyer_a", "seller_a"} | STAFF,
    "api/refunds/<case_id>/evidence": {"buyer_a", "seller_a"},
    # sellers: their own centre; seller A's product, order and case
    "seller/": SELLERS,
    "seller/inventory/": SELLERS | STAFF,  # counts only, never a key; staff see every shop's
    "seller/products/new/": SELLERS,
    "refunds/seller/": SELLERS,
    "api/catalog/stock": SELLERS | STAFF,
    "seller/products/<int:pk>/": {"seller_a"},
    "seller/products/<int:pk>/keys/": {"seller_a"},
    "seller/products/<int:pk>/keys/confirm/": {"seller_a"},
    "api/catalog/products/<product_id>/keys": {"seller_a"},
    "orders/<str:no>/seller/": {"seller_a"},
    "orders/<str:no>/delivery-file/": {"buyer_a", "seller_a"},
    "api/orders/<no>/deliver": {"seller_a"},
    "api/orders/<no>/activate": {"seller_a"},
    "refunds/seller/<int:case_id>/": {"seller_a"},
    "api/refunds/<case_id>/seller/agree": {"seller_a"},
    "api/refunds/<case_id>/seller/refuse": {"seller_a"},
    "api/refunds/<case_id>/seller/offer": {"seller_a"},
    "api/refunds/<case_id>/seller/contest": {"seller_a"},
    # customer service: the help centre is public; a conversation is its buyer's; agents answer
    "support/": EVERYONE,
    "verify/": EVERYONE,  # 验证客服
    "staff/evidence/chain/": STAFF,
    "casefile/<int:case_id>/evidence.zip": {"buyer_a"} | STAFF,
    "casefile/<int:case_id>/complain/": {"buyer_a"},
    "casefile/<int:case_id>/12315/": {"buyer_a"} | STAFF,
    "casefile/complaints/": {"supervisor", "admin"},
    "casefile/complaints/<int:complaint_no>/": {"supervisor", "admin"},
    "staff/evidence/chain/run/": {"supervisor", "admin"},
    "api/verify": EVERYONE,
    "support/start/": USERS,
    "support/order/<str:no>/": {"buyer_a"},
    "support/c/<int:conversation_id>/": {"buyer_a"},
    "support/c/<int:conversation_id>/messages/": {"buyer_a"},
    "support/a/<int:file_id>/": {"buyer_a"} | ANSWERING,
    "support/wechat/": USERS,  # 绑定微信公众号: each person binds their own WeChat
    "channels/wechat/": EVERYONE,  # WeChat's door: signed with the token, not a login (QUERIES signs it)
    "support/staff/": ANSWERING,
    "support/staff/next/": ANSWERING,
    "support/staff/c/<int:conversation_id>/": ANSWERING,
    "support/staff/c/<int:conversation_id>/messages/": ANSWERING,
    "support/staff/mail/": ANSWERING,  # mails that need a person (strangers, unreadable)
    "support/staff/mail/<int:mail_id>/raw/": ANSWERING,  # a mail's raw bytes: staff who answer only
    "api/support/wait": EVERYONE,
    "api/support/conversations": USERS,
    "api/support/conversations/<conversation_id>/messages": {"buyer_a"} | ANSWERING,
    "api/support/conversations/<conversation_id>/person": {"buyer_a"},
    "api/support/conversations/<conversation_id>/files": {"buyer_a"} | ANSWERING,
    "api/support/conversations/<conversation_id>/close": {"buyer_a"} | ANSWERING,
    "api/support/conversations/<conversation_id>/claim": ANSWERING,
    "api/support/queue": ANSWERING,
    "support/staff/complaints/": ANSWERING,
    "api/support/channel-complaints": ANSWERING,
    "api/support/channel-complaints/<complaint_id>/reply": ANSWERING,
    "api/support/desk": ANSWERING,
    "api/support/desk/next": ANSWERING,
    "api/support/canned": ANSWERING,
    "api/support/conversations/<conversation_id>/canned": ANSWERING,
    "api/support/conversations/<conversation_id>/transfer": ANSWERING,
    "api/support/conversations/<conversation_id>/calls": ANSWERING,
    "api/support/conversations/<conversation_id>/commitments": {"buyer_a"} | ANSWERING,
    "api/support/conversations/<conversation_id>/commitments/<commitment_id>/keep": ANSWERING,
    "api/support/conversations/<conversation_id>/callback": {"buyer_a"},
    "api/support/commitments": ANSWERING,
    # the notice centre: everyone logged in, each their own notices (someone else's id: 404)
    "notices/": USERS,
    "notices/<int:notice_id>/read/": USERS,
    "notices/read-all/": USERS,
    "notices/settings/": USERS,
    "notices/unread.json": USERS,
    "api/notices": USERS,
    "api/notices/unread": USERS,
    "api/notices/<notice_id>/read": USERS,
    "api/notices/read-all": USERS,
    "api/notices/preferences": USERS,
    # staff
    "refunds/staff/": STAFF,
    "refunds/staff/<int:case_id>/": STAFF,
    "api/refunds/reconciliation": {"finance", "admin"},
    "api/refunds/<case_id>/claim": STAFF - {"finance"},
    "api/refunds/<case_id>/request-info": STAFF - {"finance"},
    "api/refunds/<case_id>/decide": STAFF - {"finance"},
    "api/refunds/<case_id>/decision-preview": {"agent", "supervisor"},
    "api/refunds/<case_id>/transfer": STAFF - {"finance"},
    "api/refunds/<case_id>/finance": {"finance", "admin"},
}
# Routes whose POST (or PATCH) is narrower than their GET.
MAY_CHANGE = {
    "api/catalog/products": SELLERS,
    "api/catalog/products/<product_id>": {"seller_a"},
    "orders/<str:no>/": {"buyer_a"},
    "api/orders/<no>": {"buyer_a"},
    "refunds/<int:case_id>/": {"buyer_a"},
    "seller/inventory/": SELLERS,
    "api/catalog/stock": SELLERS,
}
# Files, and the API's root (a prefix with no page of its own).
NOT_WALKED = {"static/<path:path>", "api/"}
# The custom-service order has no delivery file: its owner gets 404 too, as anyone would.
MAY_BE_ABSENT = {"orders/<str:no>/delivery-file/"}
# A valid body for each API change, so that what turns a person away is who they are, never a
# malformed request.
BODIES = {
    "api/catalog/products": {"kind": "card_key", "name": "新商品", "price": 100},
    "api/catalog/products/<product_id>": {"price": 1},
    "api/catalog/products/<product_id>/keys": {"text": "NEW-KEY-00001"},
    "api/orders/<no>/deliver": {"note": "已交付"},
    "api/orders/<no>/activate": {"account": "acct-1"},
    "api/refunds/<case_id>/appeal": {"note": "申诉"},
    "api/refunds/<case_id>/material": {"note": "补充"},
    "api/refunds/<case_id>/offer-answer": {"accept": True},
    "api/refunds/<case_id>/seller/agree": {"note": "同意"},
    "api/refunds/<case_id>/seller/offer": {"offer": "partial", "amount": 100, "note": ""},
    "api/refunds/<case_id>/seller/contest": {"note": "不同意"},
    "api/refunds/<case_id>/request-info": {"note": "请补充"},
    "api/refunds/<case_id>/decide": {"decision": "reject", "note": "证据不足", "clause_number": 5},
    "api/refunds/<case_id>/transfer": {"to": "tech", "reason": "转技术"},
    "api/refunds/<case_id>/finance": {"approve": True, "note": ""},
    "api/support/conversations/<conversation_id>/messages": {"body": "插话", "client_id": "x-1"},
    "api/support/channel-complaints/<complaint_id>/reply": {"text": "已收到"},
    "api/support/conversations/<conversation_id>/transfer": {"department": "tech", "reason": "转技术"},
    "api/support/conversations/<conversation_id>/calls": {
        "direction": "in",
        "number": "13800000000",
        "summary": "来电",
    },
    "api/support/conversations/<conversation_id>/callback": {
        "at": "2099-01-01T10:00:00+08:00",
        "phone": "13800000000",
    },
}
FORMS = {  # multipart API changes
    "api/refunds/<case_id>/seller/refuse": lambda: {"note": "已交付", "files": [png()]},
    "api/refunds/<case_id>/evidence": lambda: {"item": "chat", "note": "截图", "file": png()},
    "api/support/conversations/<conversation_id>/files": lambda: {
        "body": "截图",
        "files": [SimpleUploadedFile("shot.png", f.image_bytes(), content_type="image/png")],
    },
}
DENIED = {401, 403, 404, 405}


def routes() -> list[str]:
    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)

    return sorted({r for r in walk(get_resolver().url_patterns) if not r.startswith("admin/")})


def test_every_route_says_who_may_use_it():
    unlisted = [r for r in routes() if r not in MAY and r not in NOT_WALKED]
    assert unlisted == [], f"add these routes to MAY (who may use them): {unlisted}"
    assert [r for r in MAY if r not in routes()] == []  # nothing stale either


@pytest.fixture
def world():
    people = {
        "buyer_a": f.buyer("buyer_a", balance=500_00),
        "buyer_b": f.buyer("buyer_b", balance=500_00),
        "agent": f.staff(Role.AGENT),
        "supervisor": f.staff(Role.SUPERVISOR),
        "finance": f.staff(Role.FINANCE),
        "admin": f.staff(Role.ADMIN),
    }
    shop_a, shop_b = f.seller("店铺A"), f.seller("店铺B")
    people["seller_a"], people["seller_b"] = shop_a.owner, shop_b.owner
    product = f.product(of=shop_a, price=10_00, keys=3)
    f.product(of=shop_b, price=10_00, keys=3)
    key_order = place_order(buyer=people["buyer_a"], product=product)
    custom = delivered_custom_order(people["buyer_a"], price=100_00, seller=shop_a)
    case = f_submit(people["buyer_a"], custom)
    attachment = Attachment.objects.filter(case=case).first()
    trade, _url = start_topup(user=people["buyer_a"], amount=10_00)
    conversation = support.conversation_for(buyer=people["buyer_a"], order=key_order)
    message = support.post_message(
        conversation_id=conversation.pk,
        author=people["buyer_a"],
        body="买家A的私信内容",
        attachments=check_all([("付款截图.png", f.image_bytes())]),
    )
    handling = file_complaint(case_id=case.pk, buyer=people["buyer_a"], text="买家A的投诉内容")
    complaint = channel_complaint(custom)
    mail = store_raw(raw="Subject: x\r\n\r\n买家A的私信内容\r\n".encode(), source="smtp")
    callback = book_callback(
        buyer=people["buyer_a"],
        conversation_id=conversation.pk,
        at=timezone.now() + timedelta(days=1),
        phone="13900000001",
    )
    notice = notify(people["buyer_a"], Sentence("买家A的通知内容"))
    return {
        "people": people,
        "values": {
            "mail_id": mail.pk,
            "pk": product.pk,
            "product_id": product.pk,
            "no": key_order.no,
            "order_no": key_order.no,
            "case_id": case.pk,
            "attachment_id": attachment.pk,
            "out_trade_no": trade.out_trade_no,
            "gateway": "sandbox",
            "uidb64": "MQ",
            "token": "not-a-token",
            "conversation_id": conversation.pk,
            "file_id": message.attachments.get().pk,
            "complaint_no": handling.pk,
            "complaint_id": complaint.pk,
            "channel": "wechatpay",
            "commitment_id": callback.pk,
            "notice_id": notice.pk,
        },
        "secrets": [
            key_order.no,
            custom.no,
            "KEY-",
            "买家A的私信内容",
            "买家A的投诉内容",
            "买家A的通知内容",
            "13900000001",
        ],
    }


def channel_complaint(order):
    """Buyer A complained to WeChat Pay about the custom order (the channel's signed notification)."""
    out_trade_no = order.payments.get().out_trade_no
    body = json.dumps({"complaint_id": "WX-1", "out_trade_no": out_trade_no, "amount": 1}).encode()
    signature = sign(body, settings.PAY_CHANNEL_SECRET)
    return receive_complaint(channel="wechatpay", body=body, signature=signature).complaint


def f_submit(buyer, order) -> RefundCase:
    return submit_refund(
        order=order,
        actor=buyer,
        reason="not_as_described",
        demand="full_refund",
        description="查重率 32%",
        evidence=evidence_for("not_as_described", GoodsKind.CUSTOM_SERVICE),
    )


# Query strings a GET needs to be a well-formed request.
def wechat_signed(timestamp: str = "1765000000", nonce: str = "matrix") -> str:
    """WeChat's echo check, signed with the development token (the tests run with the sandbox on)."""
    signature = hashlib.sha1("".join(sorted(["kameng-wechat-dev", timestamp, nonce])).encode()).hexdigest()
    return f"?signature={signature}&timestamp={timestamp}&nonce={nonce}&echostr=matrix-echo"


QUERIES = {
    "api/refunds/<case_id>/decision-preview": "?decision=approve",
    "channels/wechat/": wechat_signed(),
    "api/verify": "?value=4008206166",
}


def png():
    return SimpleUploadedFile("shot.png", PNG, content_type="image/png")


def send(client, method: str, route: str, url: str):
    if method == "get":
        return client.get(url)
    if route in BODIES:
        return getattr(client, method)(url, BODIES[route], content_type="application/json")
    if route in FORMS and method == "post":
        return client.post(url, FORMS[route]())
    return getattr(client, method)(url)


def url_of(route: str, values: dict) -> str:
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
    return "/" + path


def state() -> tuple:
    """What a turned-away request must not change."""
    return (
        Event.objects.count(),
        list(Order.objects.order_by("pk").values_list("status", flat=True)),
        list(RefundCase.objects.order_by("pk").values_list("stage", "holder", "holder_user_id")),
        CardKey.objects.filter(viewed_at__isnull=False).count(),
        Attachment.objects.count(),
        Message.objects.count(),
    )


def denied(response, person: str) -> bool:
    if response.status_code in DENIED:
        return True
    # Pages send an anonymous visitor to log in.
    return (
        person == "anonymous" and response.status_code == 302 and "/accounts/login/" in response["Location"]
    )


@pytest.mark.parametrize("person", PEOPLE)
def test_each_person_reaches_only_what_is_theirs(client, world, person):
    if person != "anonymous":
        client.force_login(world["people"][person])
    before = state()
    wrong = []
    for route in routes():
        if route in NOT_WALKED:
            continue
        url = url_of(route, world["values"]) + QUERIES.get(route, "")
        methods = ("get", "post", "patch") if route.startswith("api/") else ("get", "post")
        for method in methods:
            allowed = person in (MAY[route] if method == "get" else MAY_CHANGE.get(route, MAY[route]))
            if allowed and method != "get":
                continue  # what an allowed change does is each feature's own tests' business
            response = send(client, method, route, url)
            status = response.status_code
            if status >= 500:
                wrong.append(f"{method.upper()} {url}: {status}")
            elif not allowed and not denied(response, person):
                wrong.append(f"{method.upper()} {url}: {status}, expected to be turned away")
            elif allowed and denied(response, person) and status != 405 and route not in MAY_BE_ABSENT:
                wrong.append(f"{method.upper()} {url}: {status}, expected to be let in")
            if not allowed:
                body = response.content.decode(errors="replace")
                leaked = [s for s in world["secrets"] if s in body and s not in url]
                if leaked:
                    wrong.append(f"{method.upper()} {url}: shows {leaked}")
        if person != "anonymous" and route == "accounts/logout/":
            client.force_login(world["people"][person])
    assert wrong == [], "\n" + "\n".join(wrong)
    assert state() == before


def test_a_form_sent_to_an_endpoint_that_reads_json_is_told_so_not_a_500(client):
    shop = f.seller()
    client.force_login(shop.owner)

    response = client.post("/api/catalog/products", {"kind": "card_key", "name": "表单", "price": "100"})

    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    assert not shop.products.exists()
