"""Builds dev.jsonl (the part of the scam corpus the rules are tuned on) from dev_base.txt: every
hand-written line, plus two evasion variants of each scam line (separators or emoji inside the key
words, traditional characters, homophones, pinyin, full-width letters, Chinese or split digits) and
templated ordinary buyer messages full of numbers. Deterministic: `python build_dev.py`.

heldout.jsonl is NOT built here: it was written by hand before any rule and is never tuned on."""

import json
import random
import re
from pathlib import Path

import opencc

HERE = Path(__file__).resolve().parent
to_traditional = opencc.OpenCC("s2t")
KEYWORDS = [
    "保证金",
    "验证码",
    "微信",
    "解冻",
    "屏幕共享",
    "共享屏幕",
    "贷款",
    "注销",
    "二维码",
    "手续费",
    "冻结",
    "QQ",
    "链接",
]
SEPARATORS = ["*", " ", "-", "❤", "🌸", ".", "/", "~", "⭐", "_"]
SWAPS = {
    "微信": ["威信", "薇信", "V信", "vx", "ｗｅｉｘｉｎ", "wei xin", "徽信", "卫星", "微x", "WX"],
    "QQ": ["扣扣", "企鹅", "ｑｑ", "叩叩", "Q Q"],
    "保证金": ["baozhengjin", "宝证金", "保正金", "bao证金", "保証金"],
    "验证码": ["yanzhengma", "验正码", "驗證碼", "yzm", "验 证 码"],
    "解冻": ["jiedong", "解栋", "解凍"],
    "二维码": ["二維碼", "erweima", "码子"],
    "屏幕共享": ["屏幕分享", "共享屏目", "ping mu gong xiang"],
}
CN_DIGITS = "零一二三四五六七八九"


def split_word(text, rng):
    words = [k for k in KEYWORDS if k in text]
    if not words:
        return None
    word = rng.choice(words)
    sep = rng.choice(SEPARATORS)
    return text.replace(word, sep.join(word), 1)


def swap_word(text, rng):
    words = [k for k in SWAPS if k in text]
    if not words:
        return None
    word = rng.choice(words)
    return text.replace(word, rng.choice(SWAPS[word]), 1)


def digits(text, rng):
    if not re.search(r"\d{3,}", text):
        return None
    if rng.random() < 0.5:
        return re.sub(r"\d", lambda m: CN_DIGITS[int(m.group())], text)
    return re.sub(r"\d{3,}", lambda m: " ".join(m.group()), text)


def traditional(text, rng):
    return to_traditional.convert(text)


def full_width(text, rng):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def zero_width(text, rng):
    return "\u200b".join(text[i : i + 2] for i in range(0, len(text), 2))


TRANSFORMS = [split_word, swap_word, digits, traditional, full_width, zero_width]

GAMES = ["王者荣耀", "和平精英", "原神", "英雄联盟", "梦幻西游", "蛋仔派对", "穿越火线", "QQ飞车"]
CARDS = ["京东E卡", "Steam钱包码", "网易一卡通", "骏网一卡通", "话费充值卡", "爱奇艺会员", "腾讯视频会员"]
PROBLEMS = [
    "一直没到账",
    "显示已使用",
    "提示卡密错误",
    "充错了区服",
    "只到了一半",
    "页面一直转圈",
    "发货的卡号不对",
]
NORMAL_TEMPLATES = [
    "我在{when}买了{card}，{amount}元，{problem}",
    "订单号 {no}，{card}{problem}，麻烦处理一下",
    "{game}充值{amount}元{problem}，账号 {account}",
    "您好，订单 {no} 的{card}{problem}，能退款吗",
    "买了{n}张{card}，其中一张{problem}",
    "{game}的点券{problem}，订单{no}，付了{amount}元",
    "已补发{card}卡密，订单 {no}，请查收",
    "卖家回复：{game}充值已到账，金额{amount}元，请登录查看",
]


def normal_variant(rng):
    return rng.choice(NORMAL_TEMPLATES).format(
        when=rng.choice(["昨天晚上", "今天上午", "12月7号", "刚才", "上周五"]),
        card=rng.choice(CARDS),
        game=rng.choice(GAMES),
        amount=rng.choice(["9.9", "30", "50", "100", "199", "328", "648", "1000"]),
        problem=rng.choice(PROBLEMS),
        no=f"KM2026120{rng.randint(1, 8)}{rng.randint(0, 999999):06d}",
        account=str(rng.randint(10**7, 10**10)),
        n=rng.choice(["两", "三", "5", "10"]),
    )


def main():
    rng = random.Random(20261208)
    rows = []
    for line in (HERE / "dev_base.txt").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        label, sender, note, text = line.split("|", 3)
        rows.append({"text": text, "label": label, "sender": sender, "note": note})
        if label != "scam":
            continue
        made = 0
        for transform in rng.sample(TRANSFORMS, len(TRANSFORMS)):
            variant = transform(text, rng)
            if variant and variant != text:
                rows.append(
                    {
                        "text": variant,
                        "label": label,
                        "sender": sender,
                        "note": f"{note}+{transform.__name__}",
                    }
                )
                made += 1
            if made == 2:
                break
    for _ in range(95):
        sender = "buyer"
        text = normal_variant(rng)
        if text.startswith(("已补发", "卖家")):
            sender = "seller"
        rows.append({"text": text, "label": "normal", "sender": sender, "note": "templated"})
    with open(HERE / "dev.jsonl", "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(len(rows), sum(r["label"] == "scam" for r in rows), "scam")


if __name__ == "__main__":
    main()
