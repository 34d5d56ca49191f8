"""The help centre's first answers (admins edit them in the admin): the questions buyers of a 卡盟
ask first, answered with the platform's own rules."""

from django.db import migrations

ANSWERS = [
    (
        "退款多久到账？",
        "退回平台余额的即时到账，可在钱包查看；原路退回以支付通道为准，一般 1–3 个工作日。退款进度页会显示当前处理方和时限。",
        "退款 到账 多久 时间 几天 余额 原路",
    ),
    (
        "卡密没收到 / 充值没到账怎么办？",
        "在订单详情页点“申请退款”，原因选“未到账/未发货”。系统会核对自己的发货和充值记录，确认未发货的立即退款，无需等待人工。",
        "没收到 未到账 未发货 充值失败 卡密 没有",
    ),
    (
        "付了两次钱怎么办？",
        "重复支付会在 1 小时内全额退回多付的款项。在订单页申请退款，原因选“重复支付”，系统核对付款记录后立即退回。",
        "重复 扣款 两次 多扣 重复支付",
    ),
    (
        "卡密显示无效或已被使用？",
        "没有查看过的卡密 7 天内可以直接退；已查看的，请上传兑换失败的截图，系统会向供应商核实，未兑换或批次有问题的立即补发或退款。",
        "卡密 无效 已使用 兑换 失败 被用",
    ),
    (
        "代练、设计等定制服务不满意怎么退？",
        "定制服务按双方证据在 3–7 个工作日内处理。请上传卖家的承诺（聊天记录或商品说明）和未达标的证明，卖家 48 小时内未答复的自动同意退款。",
        "代练 定制 服务 不满意 设计 查重",
    ),
    (
        "客服会不会找我要验证码或保证金？",
        "不会。平台客服不会索要密码、短信验证码，不会要求屏幕共享，也不会收取任何保证金、解冻费。遇到这样的人请立即停止联系并在帮助中心核实。",
        "验证码 保证金 解冻 屏幕共享 骗子 诈骗 客服 真假",
    ),
]


def add(apps, schema_editor):
    Answer = apps.get_model("support", "Answer")
    for position, (question, answer, keywords) in enumerate(ANSWERS, start=1):
        Answer.objects.get_or_create(
            question=question, defaults={"answer": answer, "keywords": keywords, "position": position * 10}
        )


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]

    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
