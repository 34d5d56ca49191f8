"""The English interface: every page a person uses speaks English once they pick it, 简体中文 stays the
default, and the English catalog is complete (every msgid translated, compiled .mo in step with the .po)."""

import ast
import gettext
import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from kameng.accounts.models import Role
from kameng.orders.services import place_order
from kameng.refunds.models import RefundCase
from tests import factories as f

LOCALE_DIR = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO = LOCALE_DIR / "django.po"
MO = LOCALE_DIR / "django.mo"

# Navigation and page chrome that must not leak through in English (product and shop names in the
# test data are Chinese, so only UI labels are checked).
CHINESE_NAV = ["我的订单", "钱包", "退款进度", "退出", "登录", "注册", "卖家中心", "退款处理", "客服工作台"]
CHINESE_FOOTER = "平台不会向您索要密码"


@pytest.fixture(autouse=True)
def _back_to_default_language():
    """LocaleMiddleware activates the request's language in this thread: never let English leak into
    the next test (which may call services directly and expect Chinese)."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


def text_of(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def login_en(client, user):
    client.force_login(user)
    return english(client)


def assert_english_chrome(response, *, logged_in: bool = True) -> str:
    assert response.status_code == 200
    html = response.content.decode()
    body = text_of(response)
    assert '<html lang="en">' in html
    assert "The platform will never ask for your password" in body
    assert CHINESE_FOOTER not in body
    for label in CHINESE_NAV:
        assert label not in body, f"{label!r} is still Chinese in the English page"
    if logged_in:
        assert "My orders" in body and "Wallet" in body and "Log out" in body
    else:
        assert "Log in" in body and "Sign up" in body
    return body


# --- data ------------------------------------------------------------------------------------------


def delivered_card_order(buyer):
    """A card-key order paid from the balance and delivered at once (the key not yet viewed)."""
    return place_order(buyer=buyer, product=f.product(price=30_00, keys=2))


def open_refund_case(client, buyer):
    """A custom service the seller has not delivered; the buyer asks for a refund (in Chinese, the
    default), so the case waits for the seller with a deadline."""
    product = f.product(kind="custom_service", price=100_00, promise="七天内完成")
    f.fund(buyer, 100_00)
    order = place_order(buyer=buyer, product=product)
    client.force_login(buyer)
    client.post(
        reverse("refunds:new", args=[order.no]),
        {"reason": "other", "demand": "full_refund", "refund_to": "balance"},
    )
    return RefundCase.objects.get(order=order)


# --- the default is still 简体中文 ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_default_language_is_simplified_chinese(client):
    page = client.get(reverse("catalog:index"))
    body = text_of(page)
    assert '<html lang="zh-hans">' in page.content.decode()
    assert "登录" in body and "注册" in body and CHINESE_FOOTER in body
    assert "Log in" not in body
    assert "English" in body  # the switch offers English


@pytest.mark.django_db
def test_a_logged_in_buyer_sees_chinese_by_default(client):
    buyer = f.buyer(balance=50_00)
    order = delivered_card_order(buyer)
    client.force_login(buyer)
    body = text_of(client.get(reverse("orders:detail", args=[order.no])))
    assert "订单详情" in body and "查看卡密" in body and "申请退款" in body
    assert "Order details" not in body


# --- choosing English -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_language_switch_posts_to_setlang_and_the_site_turns_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"

    page = client.get(reverse("catalog:index"))
    assert_english_chrome(page, logged_in=False)
    assert "中文" in text_of(page)  # and the switch offers the way back

    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "登录" in text_of(client.get(reverse("catalog:index")))


@pytest.mark.django_db
def test_accept_language_en_is_honoured(client):
    page = client.get(reverse("catalog:index"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert_english_chrome(page, logged_in=False)


@pytest.mark.django_db
def test_catalog_and_product_pages_in_english(client):
    product = f.product(kind="custom_service", price=100_00, promise="七天内完成")
    english(client)

    body = assert_english_chrome(client.get(reverse("catalog:index")), logged_in=False)
    assert "Products" in body and "All" in body and "Custom service" in body

    body = assert_english_chrome(client.get(reverse("catalog:product", args=[product.pk])), logged_in=False)
    assert "Face value" in body and "Service promise:" in body and "Log in to buy" in body

    client.force_login(f.buyer())
    body = assert_english_chrome(client.get(reverse("catalog:product", args=[product.pk])))
    assert "Quantity" in body and "Pay with balance" in body and "Buy now" in body
    assert "立即购买" not in body and "余额支付" not in body


@pytest.mark.django_db
def test_login_page_in_english(client):
    body = assert_english_chrome(english(client).get(reverse("accounts:login")), logged_in=False)
    assert "Username" in body and "Password" in body and "No account? Sign up" in body
    assert "用户名" not in body and "密码" not in body


@pytest.mark.django_db
def test_my_orders_order_detail_and_wallet_in_english(client):
    buyer = f.buyer(balance=50_00)
    order = delivered_card_order(buyer)
    login_en(client, buyer)

    body = assert_english_chrome(client.get(reverse("orders:list")))
    assert "Order no." in body and "Status" in body and "Delivered" in body and order.no in body
    assert "已发货" not in body

    body = assert_english_chrome(client.get(reverse("orders:detail", args=[order.no])))
    assert "Order details" in body and "View card key" in body and "Request a refund" in body
    assert "Standard card key" in body and "Pay with balance" in body
    assert "查看卡密" not in body and "申请退款" not in body

    body = assert_english_chrome(client.get(reverse("wallet:home")))
    assert "My wallet" in body and "Available balance" in body and "Top up" in body
    assert "Balance top-up" in body and "Order payment" in body  # the history's kinds
    assert "可用余额" not in body and "余额充值" not in body


@pytest.mark.django_db
def test_wallet_error_message_is_english(client):
    login_en(client, f.buyer())
    page = client.post(reverse("payments:topup"), {"amount": "abc"}, follow=True)
    body = text_of(page)
    assert "Please enter a valid amount, such as 50 or 49.90." in body
    assert "请输入正确的金额" not in body


@pytest.mark.django_db
def test_refund_request_form_in_english(client):
    buyer = f.buyer(balance=50_00)
    order = delivered_card_order(buyer)
    login_en(client, buyer)

    body = assert_english_chrome(client.get(reverse("refunds:new", args=[order.no]) + "?reason=invalid_key"))
    assert "Refund reason" in body and "Submit refund request" in body
    assert "Materials to submit" in body and "Required" in body
    assert "Card key invalid / already used" in body and "Full refund" in body
    # Default policy data is shown in English too: the checklist item and the safety clause.
    assert "Screenshot of the failed redemption" in body and "兑换失败的截图" not in body
    assert "Fraud warning" in body and "Refunds only go back to the original payment method" in body
    assert "(Standard card key ·" in body
    assert "提交退款申请" not in body and "防骗提醒" not in body


@pytest.mark.django_db
def test_refund_progress_page_in_english(client):
    buyer = f.buyer()
    case = open_refund_case(client, buyer)
    english(client)

    body = assert_english_chrome(client.get(reverse("refunds:detail", args=[case.pk])))
    assert "Awaiting seller" in body
    assert "Current handler:" in body and "Seller “" in body
    assert "Deadline:" in body and "(Beijing time)" in body
    assert "Nudge" in body and "Withdraw request" in body
    assert "Refund request #%d" % case.pk in body
    assert "Submitted a refund request: Other, demand: Full refund" in body  # the timeline
    assert "当前处理方" not in body and "催一催" not in body and "处理时限" not in body

    body = assert_english_chrome(client.get(reverse("refunds:my_cases")))
    assert "My refunds" in body and "Awaiting seller" in body and "left)" in body


@pytest.mark.django_db
def test_seller_and_staff_refund_pages_in_english(client):
    buyer = f.buyer()
    case = open_refund_case(client, buyer)

    login_en(client, case.seller.owner)
    body = assert_english_chrome(client.get(reverse("refunds:seller_detail", args=[case.pk])))
    assert "Your reply" in body and "Agree to refund" in body and "Refuse refund" in body
    assert "您的答复" not in body and "提交拒绝" not in body  # (stored reasons stay as written)

    login_en(client, f.staff(Role.SUPERVISOR))
    body = assert_english_chrome(client.get(reverse("refunds:staff_queue")))
    assert "Support desk · Refund requests" in body
    assert "Sorted by urgency" in body and "All open" in body and "Filter" in body
    assert "#%d" % case.pk in body and "Awaiting seller" in body
    assert "按紧急程度排序" not in body and "全部进行中" not in body

    body = assert_english_chrome(client.get(reverse("refunds:staff_detail", args=[case.pk])))
    assert "Verified facts" in body and "History" in body


# --- the catalog itself ----------------------------------------------------------------------------


def parse_po(path: Path) -> list[dict]:
    """A tiny .po reader: entries with their flags, msgid and msgstr (obsolete #~ entries skipped)."""
    entries, cur, field = [], None, None

    def flush():
        nonlocal cur
        if cur is not None and "msgid" in cur:
            entries.append(cur)
        cur = None

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            flush()
            continue
        if line.startswith("#~"):
            continue
        if cur is not None and "msgstr" in cur and (line.startswith("#") or line.startswith("msg")):
            flush()
        if cur is None:
            cur = {"flags": set()}
        if line.startswith("#,"):
            cur["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        else:
            m = re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$', line)
            if m:
                field = m.group(1)
                cur[field] = ast.literal_eval(m.group(2))
            else:
                cur[field] += ast.literal_eval(line)
    flush()
    return entries


def translations() -> list[dict]:
    return [e for e in parse_po(PO) if e["msgid"]]


def test_the_english_catalog_has_a_translation_for_every_msgid():
    entries = translations()
    assert len(entries) > 500
    empty = [e["msgid"] for e in entries if not e.get("msgstr")]
    fuzzy = [e["msgid"] for e in parse_po(PO) if "fuzzy" in e["flags"]]
    assert empty == [], f"untranslated: {empty[:10]}"
    assert fuzzy == [], f"fuzzy: {fuzzy[:10]}"


def test_translations_keep_their_placeholders_and_markup():
    token = re.compile(r"%\(\w+\)[sdif]|<[^>]+>")
    for e in translations():
        assert sorted(token.findall(e["msgid"])) == sorted(token.findall(e["msgstr"])), e["msgid"]


def test_translations_are_english():
    han = re.compile(r"[\u4e00-\u9fff]")
    allowed = {"简体中文"}  # the language's own name stays in its own script
    leftovers = [
        e["msgid"]
        for e in translations()
        # The calendar's 休/班 marks and the canned replies' variables ({订单号}) are tokens, not words.
        if e["msgid"] not in allowed
        and han.search(re.sub(r"（[休班]）|\([休班]\)|\{[^{}]*\}", "", e["msgstr"]))
    ]
    assert leftovers == []


def test_the_compiled_mo_is_committed_and_matches_the_po():
    assert MO.exists(), "run: cd src/kameng && ../../.venv/bin/python ../../manage.py compilemessages"
    with MO.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)
    stale = [e["msgid"] for e in translations() if catalog.gettext(e["msgid"]) != e["msgstr"]]
    assert stale == [], f".mo is out of date for: {stale[:10]}"


def test_the_catalog_is_in_step_with_the_source(tmp_path, settings):
    """Every string marked in the code has a translation: re-extract into a scratch copy and compare.
    When this fails, run makemessages (see the message) and translate the new msgids."""
    if shutil.which("xgettext") is None or shutil.which("msguniq") is None:
        pytest.skip("GNU gettext is not installed")
    source = Path(settings.BASE_DIR) / "src" / "kameng"
    copy = tmp_path / "kameng"
    shutil.copytree(
        source, copy, ignore=shutil.ignore_patterns("locale", "migrations", "static", "__pycache__")
    )
    (copy / "locale").mkdir()
    settings.LOCALE_PATHS = [copy / "locale"]
    cwd = os.getcwd()
    try:
        os.chdir(copy)
        call_command("makemessages", locale=["en"], verbosity=0)
    finally:
        os.chdir(cwd)
    in_source = {e["msgid"] for e in parse_po(copy / "locale" / "en" / "LC_MESSAGES" / "django.po")}
    assert len(in_source) > 500
    translated = {e["msgid"] for e in translations() if e.get("msgstr")}
    missing = sorted(in_source - translated - {""})
    assert missing == [], (
        "new msgids without a translation; run `cd src/kameng && ../../.venv/bin/python ../../manage.py "
        f"makemessages -l en --ignore=migrations --ignore=static`, translate, compilemessages: {missing[:10]}"
    )
