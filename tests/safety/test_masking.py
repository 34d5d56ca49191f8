"""Masking (issue 16, item 3): bank cards (Luhn), resident ID numbers (ISO 7064 check digit), codes in
context and whatever follows 密码 are hidden from everyone but the author; order numbers, amounts,
phone numbers and ordinary talk are left alone."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from kameng.safety.masking import ID_CHECK, ID_WEIGHTS, luhn_ok, mask

CHINESE = "我的卡号是请帮忙退款订单已付款谢谢客服查一下到账了没有金额元"


def luhn_complete(body: str) -> str:
    for check in "0123456789":
        if luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable")


def grouped(digits: str, separator: str, size: int) -> str:
    return separator.join(digits[i : i + size] for i in range(0, len(digits), size))


@st.composite
def card_numbers(draw):
    length = draw(st.integers(min_value=16, max_value=19))
    body = draw(st.text(alphabet="0123456789", min_size=length - 1, max_size=length - 1))
    digits = luhn_complete(body)
    separator = draw(st.sampled_from(["", " ", "-"]))
    size = draw(st.sampled_from([4, 5, 6]))
    return digits, grouped(digits, separator, size) if separator else digits


@st.composite
def resident_ids(draw):
    body = draw(st.text(alphabet="0123456789", min_size=17, max_size=17))
    check = ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]
    return body + draw(st.sampled_from([check, check.lower()]))


surroundings = st.tuples(
    st.sampled_from(["", "卡号", "我的银行卡 ", "card: ", "退到这张卡："]),
    st.sampled_from(["", "，谢谢", " 尽快", "。"]),
)


@settings(max_examples=300, deadline=None)
@given(card_numbers(), surroundings)
def test_a_valid_card_number_is_always_masked(card, around):
    digits, written = card
    before, after = around
    result = mask(before + written + after)
    assert "card" in result.kinds
    assert digits[:-4] not in result.text.replace(" ", "").replace("-", "")
    assert result.text.endswith(digits[-4:] + after)  # the last four stay, to talk about the card


@settings(max_examples=300, deadline=None)
@given(resident_ids(), surroundings)
def test_a_valid_id_number_is_always_masked(number, around):
    before, after = around
    result = mask(f"{before}身份证 {number}{after}")
    assert "id_number" in result.kinds and number not in result.text and number[:6] not in result.text


def test_random_talk_is_rarely_touched():
    rng = random.Random(20261208)
    touched = 0
    for _ in range(3000):
        parts = []
        for _ in range(rng.randint(1, 6)):
            parts.append("".join(rng.choice(CHINESE) for _ in range(rng.randint(1, 8))))
            parts.append(str(rng.randint(0, 10 ** rng.randint(1, 15))))
        if mask("".join(parts)).changed:
            touched += 1
    assert touched / 3000 < 0.01


def test_what_must_stay_readable():
    for text in [
        "订单号 K202612081234567890 还没到账",
        "订单 20261208123456789012 的退款",  # 22 digits: no card has that many
        "我付了 ¥1,299.00，到账 1299 元",
        "我的手机号 13800138000，请回电",
        "热线 400-820-6166",
        "2026-12-08 18:00 前回电",
        "验证码是什么？客服说要验证码，这是真的吗",
        "平台不会向您索要密码",
    ]:
        assert mask(text).text == text, text


def test_luhn_failing_and_wrong_check_digit_stay():
    valid = luhn_complete("622202123456789012")
    invalid = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    assert mask(f"卡号 {valid}").changed
    assert mask(f"卡号 {invalid}").text == f"卡号 {invalid}"
    body = "11010519491231002"
    good = body + ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]
    wrong = body + ("0" if good[-1] != "0" else "1")
    assert mask(wrong).text == wrong
    assert mask(good).text == "*" * 18


def test_codes_in_context_and_passwords():
    assert mask("验证码 884213，别告诉别人").text == "验证码 ******，别告诉别人"
    assert mask("短信验证码是：5521").text == "短信验证码是：****"
    assert mask("884213 是验证码").text == "****** 是验证码"
    assert mask("my code: 1234").text == "my code: ****"
    assert mask("游戏账号 wang001 密码 Abc#12345 谢谢").text == "游戏账号 wang001 密码 ****** 谢谢"
    assert mask("密码：我爱北京2026").text == "密码：******"
    result = mask("卡号 6222 0212 3456 7894 密码 123456")
    assert result.kinds == ("card", "password") or set(result.kinds) == {"card", "password"}
    assert "123456" not in result.text


def test_nothing_to_mask():
    assert mask("").text == "" and not mask("").changed
    assert mask("你好").kinds == ()
