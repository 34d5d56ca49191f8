"""The scam filter (issue 16, item 2; SPEC §9): evasions are caught, the platform's own warnings and
buyers' questions pass, the rules are data an admin edits and tries, `scam_check` prints exactly what
the SPEC says, hits are logged, and odd input is contained."""

import io
import json
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kameng.accounts.models import Role
from kameng.safety import scam
from kameng.safety.models import ScamHit, ScamRule
from tests import factories as f

pytestmark = pytest.mark.django_db
CORPUS = Path(__file__).resolve().parents[2] / "bench" / "scam_corpus"


@pytest.fixture(autouse=True)
def fresh_rules():
    """Each test starts from the seeded rules: one that edited them was rolled back, which no signal
    reports to the process's compiled copy."""
    scam.forget_rules()
    yield
    scam.forget_rules()


def flagged(text, sender="seller"):
    return scam.check(text, sender=sender).verdict != "pass"


def test_the_held_out_corpus_stays_above_the_floor():
    """A floor well below the target (recall 0.95, false positives 2%): bench/scam_eval.py reports the
    real figures. The held-out part was written before the rules and is never tuned on."""
    rows = [json.loads(line) for line in (CORPUS / "heldout.jsonl").read_text(encoding="utf-8").splitlines()]
    scams = [r for r in rows if r["label"] == "scam"]
    normals = [r for r in rows if r["label"] == "normal"]
    assert len(scams) >= 100 and len(normals) >= 100
    recall = sum(flagged(r["text"], r["sender"]) for r in scams) / len(scams)
    false_positives = sum(flagged(r["text"], r["sender"]) for r in normals) / len(normals)
    assert recall >= 0.85
    assert false_positives <= 0.05


@pytest.mark.parametrize(
    ("family", "text"),
    [
        ("homophone 威信", "退款加我威信 tk2233"),
        ("V❤信", "有事加V❤信聊，退款快"),
        ("薇", "加薇 refund2026 退款"),
        ("扣扣 + Chinese digits", "加扣扣 二八七四五六一二零 给你退"),
        ("full-width", "加ｗｅｉｘｉｎ：ｋｍ２０２６ 聊退款"),
        ("separators", "退款请先交 保*证*金 两百元"),
        ("spaces", "退款请先交 保 证 金"),
        ("dashes", "退款请先交保-证-金"),
        ("pinyin", "先交baozhengjin才能退"),
        ("homophone 宝证金", "先交宝证金才能退款"),
        ("traditional", "請先繳納保證金，繳納後退款"),
        ("emoji inside", "先交保🌸证🌸金才能退"),
        ("zero-width", "加我微\u200b信\u200c退款"),
        ("split digits", "打我电话 1 3 8 0 0 1 3 8 0 0 0 私下处理"),
        ("Chinese digits", "联系我手机 一三八零零一三八零零零 私下退"),
        ("code", "把手机收到的驗證碼發給我"),
        ("screen", "下载向日葵远程控制，我帮你操作退款"),
        ("loan", "你的信用额度不够，要先在借呗借一笔"),
        ("cancel", "您开通了百万保障，不注销每月自动扣费"),
        ("unfreeze", "账户被冻结，交解冻费后恢复"),
        ("link", "退款请点 http://kameng-refund.top/r 填写银行卡号"),
        ("QR code", "长按识别二维码进入退款通道"),
    ],
)
def test_each_evasion_family_is_caught_in_a_sellers_message(family, text):
    verdict = scam.check(text, sender="seller")
    assert verdict.verdict != "pass", family
    assert verdict.rules and verdict.categories


def test_contact_moving_with_money_scores_higher_than_either_alone():
    contact = scam.check("加我微信", sender="seller").score
    money = scam.check("请先交保证金", sender="seller").score
    both = scam.check("请先交保证金，加我微信", sender="seller").score
    assert both > contact + money
    assert scam.check("请先交保证金，加我微信", sender="seller").verdict == "hold"


@pytest.mark.parametrize(
    "text",
    [
        "平台不会向您索要验证码",
        "请勿向任何人透露验证码",
        "客服不会要求您交保证金",
        "卡盟退款不收取任何保证金、解冻费或手续费",
        "卡盟从不要求您下载远程软件或共享屏幕",
        "【卡盟】近期有骗子冒充客服要求交保证金，请勿相信",
    ],
)
@pytest.mark.parametrize("sender", ["agent", "email", "seller"])
def test_the_platforms_own_warnings_are_never_held(text, sender):
    verdict = scam.check(text, sender=sender)
    assert verdict.verdict != "hold"
    if sender == "agent":
        assert verdict.verdict == "pass"


@pytest.mark.parametrize(
    "text",
    [
        "客服让我交保证金，这是真的吗？",
        "保证金是什么意思",
        "有人加我微信说是卡盟客服，要我交解冻费，是不是骗子",
        "对方要我的验证码，能给吗",
        "这个二维码是你们发的吗",
    ],
)
@pytest.mark.parametrize("sender", ["buyer", "agent"])
def test_buyers_asking_about_such_words_pass(text, sender):
    assert scam.check(text, sender=sender).verdict == "pass"


@pytest.mark.parametrize("text", ["我的验证码是 384920", "卡号 4111 1111 1111 1111 你看下"])
def test_a_buyer_about_to_send_a_code_or_card_number_is_warned_not_held(text):
    assert scam.check(text, sender="buyer").verdict == "warn"


@pytest.mark.parametrize(
    "text",
    [
        "已补发卡密，请查收",
        "订单号 KM20261208008812，金额 49.5 元，已退到余额",
        "您充值的QQ号是 12345678 吗？",
    ],
)
def test_sellers_ordinary_answers_pass(text):
    assert scam.check(text, sender="seller").verdict == "pass"


def run_scam_check(*args, stdin=None):
    out = io.StringIO()
    call_command("scam_check", *args, stdin=stdin, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_scam_check_prints_one_json_object_a_line_from_standard_input():
    out = io.StringIO()
    call_command("scam_check", stdin=io.StringIO("加我薇信 先交保证金\n已补发卡密，请查收\n"), stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert "薇信" in lines[0]  # not \u-escaped
    first, second = (json.loads(line) for line in lines)
    assert list(first) == ["text", "verdict", "score", "categories", "rules"]
    assert first["text"] == "加我薇信 先交保证金" and first["verdict"] == "hold"
    assert isinstance(first["score"], float) and first["score"] > 0
    assert {"contact", "deposit"} <= set(first["categories"])
    assert "加私人联系方式" in first["rules"]
    assert second == {
        "text": "已补发卡密，请查收",
        "verdict": "pass",
        "score": 0.0,
        "categories": [],
        "rules": [],
    }


def test_scam_check_reads_a_gb18030_file_with_the_sender_given(tmp_path):
    path = tmp_path / "msgs.txt"
    path.write_bytes("我的验证码是 384920\r\n保证金是什么意思\n".encode("gb18030"))
    first, second = run_scam_check(str(path), "--sender", "buyer")
    assert first["text"] == "我的验证码是 384920" and first["verdict"] == "warn"
    assert second["verdict"] == "pass"


@pytest.mark.parametrize("content", [b"\xff\xfe\x81\x00binary", b"text\x00with NUL\n"])
def test_scam_check_refuses_what_is_not_text_with_one_line(tmp_path, content):
    path = tmp_path / "bad.bin"
    path.write_bytes(content)
    with pytest.raises(CommandError) as error:
        run_scam_check(str(path))
    assert "\n" not in str(error.value)


def test_scam_check_names_a_file_it_cannot_read(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        run_scam_check(str(tmp_path / "missing.txt"))


def test_scam_check_refuses_an_unknown_sender():
    with pytest.raises(CommandError):
        run_scam_check("--sender", "robot", stdin=io.StringIO("hi\n"))


TRY_URL = "/admin/safety/scamrule/try/"


def test_the_admin_tries_text_and_a_draft_rule_before_saving(client):
    client.force_login(f.staff(Role.ADMIN))
    assert client.get(TRY_URL).status_code == 200
    page = client.post(TRY_URL, {"text": "加我薇信 先交保证金", "sender": "seller"}).content.decode()
    assert 'data-verdict="hold"' in page and "加私人联系方式" in page and "私下联系" in page
    # A new phrase, tried before it exists: the result changes, nothing is saved.
    count = ScamRule.objects.count()
    page = client.post(
        TRY_URL,
        {
            "text": "请购买火星币",
            "sender": "seller",
            "kind": "phrase",
            "category": "other",
            "pattern": "火星币",
            "weight": 9,
        },
    ).content.decode()
    assert 'data-verdict="hold"' in page and "草稿" in page
    assert ScamRule.objects.count() == count
    assert scam.check("请购买火星币").verdict == "pass"


def test_a_draft_that_cannot_work_is_explained(client):
    client.force_login(f.staff(Role.ADMIN))
    page = client.post(TRY_URL, {"text": "x", "sender": "seller", "kind": "regex", "pattern": "(unclosed"})
    assert page.status_code == 200 and "正则表达式有误" in page.content.decode()


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.FINANCE])
def test_the_try_box_is_refused_to_other_staff(client, role):
    client.force_login(f.staff(role))
    assert client.post(TRY_URL, {"text": "加我微信", "sender": "seller"}).status_code == 403


def test_the_try_box_sends_anonymous_visitors_and_buyers_to_log_in(client):
    assert client.get(TRY_URL).status_code == 302
    client.force_login(f.buyer())
    assert client.get(TRY_URL).status_code == 302


def test_a_rule_edited_in_the_database_takes_effect_at_once():
    assert scam.check("请购买火星币").verdict == "pass"
    rule = ScamRule.objects.create(name="火星币", category="other", kind="phrase", pattern="火星币", weight=9)
    assert scam.check("请购买火星币").verdict == "hold"
    rule.weight = 3.5
    rule.save()
    assert scam.check("请购买火星币").verdict == "warn"
    rule.is_active = False
    rule.save()
    assert scam.check("请购买火星币").verdict == "pass"
    ScamRule.objects.filter(name="保证金的变体").delete()
    assert "保证金" not in [h.name for h in scam.check("先交宝证金").rules]


def test_a_rule_that_cannot_compile_is_refused_by_the_admin_form():
    from django.core.exceptions import ValidationError

    rule = ScamRule(name="坏", kind="regex", pattern=".*", weight=1)
    with pytest.raises(ValidationError):
        rule.full_clean()


def test_a_hit_is_logged_with_its_rules_and_score_but_not_its_secrets():
    verdict = scam.check("我的验证码是 384920，加我微信", sender="seller")
    hit = scam.log_hit(verdict, source="support.message", source_id=42)
    hit.refresh_from_db()
    assert hit.verdict == "hold" and hit.score == verdict.score > 0
    assert set(hit.rule_ids) == {h.id for h in verdict.rules} and hit.rule_ids
    assert ScamRule.objects.filter(id__in=hit.rule_ids, name="正在发送验证码").exists()
    assert hit.categories == list(verdict.categories)
    assert (hit.source, hit.source_id, hit.sender) == ("support.message", "42", "seller")
    assert "384920" not in hit.excerpt and len(hit.digest) == 64
    assert scam.log_hit(scam.check("已补发卡密，请查收")) is None
    assert ScamHit.objects.count() == 1


def test_huge_and_binary_input_is_handled_quickly_and_safely():
    scam.check("warm up")
    huge = "正常的聊天内容，订单号 KM2026 " * 40000 + "加我微信"  # about 1 MB
    start = time.perf_counter()
    verdict = scam.check(huge, sender="seller")
    assert time.perf_counter() - start < 2.0
    assert verdict.verdict in ("hold", "warn", "pass")
    garbage = bytes(range(256)).decode("latin-1") * 4000 + "\x00\ud800"
    start = time.perf_counter()
    assert scam.check(garbage, sender="buyer").verdict in ("warn", "pass")
    assert scam.check("加我\x00微\x00信 先交保证金").verdict == "hold"
    assert time.perf_counter() - start < 2.0
    hit = scam.log_hit(scam.check("\ud800加我微信 先交保证金\x00"))
    assert hit.pk and "\x00" not in hit.excerpt


def test_an_unknown_sender_is_a_programming_error():
    with pytest.raises(ValueError):
        scam.check("hi", sender="robot")


def test_the_optional_classifier_adds_to_the_rules_when_asked():
    text = "亲，退款要先交一笔押金，押金会原路退回"
    without = scam.check(text, sender="seller")
    with_it = scam.check(text, sender="seller", classifier=True)
    assert "分类器" not in [h.name for h in without.rules]
    assert with_it.score >= without.score
    assert scam.check("已补发卡密，请查收", sender="seller", classifier=True).verdict == "pass"
