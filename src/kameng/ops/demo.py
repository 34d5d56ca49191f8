"""A realistic demo shop, built through the same services a person would use."""

from django.db import transaction

from kameng.accounts.models import Role, User
from kameng.accounts.services import create_staff, grant_roles, register_buyer
from kameng.catalog.models import GoodsKind
from kameng.catalog.services import create_product, create_seller, import_card_keys
from kameng.orders.models import Order
from kameng.orders.services import (
    deliver_custom_service,
    place_order,
    reveal_card_keys,
    start_order_gateway_payment,
)
from kameng.payments.gateway import get_gateway
from kameng.payments.services import start_gateway_payment, start_topup, sync_payment

PASSWORD = "kameng-demo"

LOGINS = [
    ("admin", "管理员 admin", "超级管理员（/admin/）"),
    ("agent1", "客服 工号 1001", "客服"),
    ("supervisor1", "客服主管 工号 2001", "客服主管"),
    ("finance1", "财务 工号 3001", "财务"),
    ("seller_star", "卖家 星辰游戏", "点卡/直充卖家"),
    ("seller_vip", "卖家 影音会员专营", "会员卖家"),
    ("seller_study", "卖家 学霸工作室", "定制服务卖家"),
    ("zhangsan", "买家 张三", "有各种状态订单的买家"),
    ("lisi", "买家 李四", "新买家，余额 ¥200"),
    ("wangwu", "买家 王五", "已有进行中的退款申请（卖家处理中、平台审核中、财务复核中）"),
]


def _gateway_pay(order: Order, buyer, times: int = 1) -> None:
    for _ in range(times):
        payment, _url = (
            start_order_gateway_payment(order=order, user=buyer)
            if order.status == "pending"
            else (None, None)
        )
        if payment is None:  # a second payment for an already paid order: the buyer's second tab
            payment, _url = start_gateway_payment(user=buyer, order=order, amount=order.amount, subject="dup")
        get_gateway().pay(payment.out_trade_no)
        sync_payment(payment)
        order.refresh_from_db()


def _topup(user, amount: int) -> None:
    payment, _url = start_topup(user=user, amount=amount)
    get_gateway().pay(payment.out_trade_no)
    sync_payment(payment)


def keys(prefix: str, n: int) -> str:
    return "\n".join(f"{prefix}-{i:04d}-{(i * 7919) % 10000:04d}-KM" for i in range(1, n + 1))


@transaction.atomic
def load_demo() -> list[tuple[str, str, str]]:
    admin = User.objects.create_superuser("admin", "admin@kameng.local", PASSWORD, display_name="管理员")
    grant_roles(user=admin, roles=[Role.ADMIN])
    create_staff(
        username="agent1", password=PASSWORD, roles=[Role.AGENT], agent_no="1001", display_name="小美"
    )
    create_staff(
        username="supervisor1",
        password=PASSWORD,
        roles=[Role.AGENT, Role.SUPERVISOR],
        agent_no="2001",
        display_name="王主管",
    )
    create_staff(
        username="finance1", password=PASSWORD, roles=[Role.FINANCE], agent_no="3001", display_name="财务刘"
    )

    platform = create_seller(
        name="卡盟自营", is_platform=True, contact_phone="400-820-6166", address="上海市浦东新区示例路 1 号"
    )
    sellers = {}
    for username, name, phone in [
        ("seller_star", "星辰游戏", "021-61234567"),
        ("seller_vip", "影音会员专营", "0571-8888666"),
        ("seller_study", "学霸工作室", "027-87654321"),
    ]:
        user = register_buyer(username=username, password=PASSWORD, display_name=name)
        grant_roles(user=user, roles=[Role.SELLER])
        sellers[username] = create_seller(
            name=name, owner=user, contact_phone=phone, address="杭州市西湖区示例大厦 8 楼"
        )

    star = sellers["seller_star"]
    p = {}
    p["qq"] = create_product(
        seller=platform,
        kind=GoodsKind.CARD_KEY,
        name="腾讯Q币卡 100元",
        face_value=100_00,
        price=98_50,
        description="官方正版 Q 币卡密，自动发货。",
    )
    p["jd"] = create_product(
        seller=star,
        kind=GoodsKind.CARD_KEY,
        name="京东E卡 50元",
        face_value=50_00,
        price=49_00,
        description="卡密自动发货，可在京东绑定使用。",
    )
    p["wz"] = create_product(
        seller=star,
        kind=GoodsKind.CARD_KEY,
        name="王者荣耀点券 60元",
        face_value=60_00,
        price=57_00,
        description="点券卡密。",
    )
    p["yuanshen"] = create_product(
        seller=star,
        kind=GoodsKind.DIRECT_TOPUP,
        name="原神 创世结晶 6480 直充",
        face_value=648_00,
        price=618_00,
        description="填写 UID，自动到账。",
    )
    p["phone"] = create_product(
        seller=platform,
        kind=GoodsKind.DIRECT_TOPUP,
        name="手机话费 100元 直充",
        face_value=100_00,
        price=99_00,
        description="三网话费，自动充值。",
    )
    p["video"] = create_product(
        seller=sellers["seller_vip"],
        kind=GoodsKind.ACTIVATION,
        name="视频会员 年卡",
        face_value=258_00,
        price=148_00,
        duration_days=365,
        description="填写会员账号，卖家为您开通。",
    )
    p["office"] = create_product(
        seller=sellers["seller_vip"],
        kind=GoodsKind.ACTIVATION,
        name="办公软件 一年授权",
        price=199_00,
        duration_days=365,
        stock=50,
    )
    p["boost"] = create_product(
        seller=sellers["seller_study"],
        kind=GoodsKind.CUSTOM_SERVICE,
        name="王者荣耀 代练 钻石→星耀",
        price=120_00,
        stock=20,
        promise="7 天内完成，不使用外挂",
    )
    p["check"] = create_product(
        seller=sellers["seller_study"],
        kind=GoodsKind.CUSTOM_SERVICE,
        name="论文降重服务",
        price=300_00,
        stock=20,
        promise="查重率低于 15%",
    )
    p["steam"] = create_product(
        seller=platform,
        kind=GoodsKind.CARD_KEY,
        name="Steam 钱包充值卡 600元",
        face_value=600_00,
        price=588_00,
        description="国区 Steam 钱包码。",
    )
    import_card_keys(product=p["qq"], data=keys("QQ100", 30), actor=admin)
    import_card_keys(product=p["steam"], data=keys("STEAM600", 10), actor=admin)
    import_card_keys(product=p["jd"], data=keys("JDE50", 20), actor=star.owner)
    import_card_keys(product=p["wz"], data=keys("WZ60", 1), actor=star.owner)

    zhang = register_buyer(
        username="zhangsan",
        password=PASSWORD,
        phone="13800138000",
        email="zhangsan@example.com",
        display_name="张三",
    )
    lisi = register_buyer(username="lisi", password=PASSWORD, phone="13900139000", display_name="李四")
    _topup(zhang, 2000_00)
    _topup(lisi, 200_00)

    # Delivered and revealed; delivered and never revealed.
    revealed = place_order(buyer=zhang, product=p["qq"])
    reveal_card_keys(order_id=revealed.pk, buyer=zhang)
    place_order(buyer=zhang, product=p["jd"])
    # Undelivered: paid online while the last key went to someone else.
    late = place_order(buyer=zhang, product=p["wz"], pay_method="gateway")
    place_order(buyer=lisi, product=p["wz"])  # takes the only key
    _gateway_pay(late, zhang)
    # Paid twice (two tabs, two successful payments).
    twice = place_order(buyer=zhang, product=p["jd"], pay_method="gateway")
    _gateway_pay(twice, zhang, times=2)
    # Top-ups: failed, and unknown.
    place_order(buyer=zhang, product=p["yuanshen"], target_account="fail-UID-100200300")
    place_order(buyer=zhang, product=p["phone"], target_account="unknown-13800138000")
    # Membership paid, never activated.
    place_order(buyer=zhang, product=p["video"], target_account="zhangsan@example.com")
    # Custom service delivered; the buyer disputes it (report says 32%).
    work = place_order(buyer=zhang, product=p["check"])
    deliver_custom_service(
        order_id=work.pk, seller_user=sellers["seller_study"].owner, note="已完成降重，请查收附件。"
    )
    _demo_cases(p, sellers, zhang)
    return LOGINS


def _demo_cases(p, sellers, zhang) -> None:
    """Cases already under way, so agents, sellers and finance have something in their queues."""
    from kameng.refunds.services import approve_refund, claim, preview_decision, submit_refund

    wang = register_buyer(
        username="wangwu",
        password=PASSWORD,
        phone="13700137000",
        email="wangwu@example.com",
        display_name="王五",
    )
    _topup(wang, 2000_00)
    agent = User.objects.get(username="agent1")
    # A 代练 order the buyer says was not done as promised: waiting for the seller (48 h).
    boost = place_order(buyer=wang, product=p["boost"], target_account="")
    deliver_custom_service(
        order_id=boost.pk, seller_user=sellers["seller_study"].owner, note="已打到星耀，请验收。"
    )
    submit_refund(
        order=boost,
        actor=wang,
        reason="other",
        demand="full_refund",
        description="只打到钻石一，没有到星耀，截图里段位没变。",
    )
    # A platform top-up the buyer says never arrived although the supplier said success: platform review.
    phone = place_order(buyer=wang, product=p["phone"], target_account="13700137000")
    submit_refund(
        order=phone,
        actor=wang,
        reason="not_received",
        demand="full_refund",
        description="话费没有到账，运营商查不到这笔充值。",
    )
    # A large refund the agent approved: finance must approve it too (clause 8).
    big = place_order(buyer=wang, product=p["steam"])
    reveal_card_keys(order_id=big.pk, buyer=wang)
    case = submit_refund(
        order=big,
        actor=wang,
        reason="other",
        demand="full_refund",
        description="买错了区服，卡密已查看但没有兑换。",
    )
    case = claim(case_id=case.pk, agent=agent)
    approve_refund(
        case_id=case.pk,
        agent=agent,
        clause_number=4,
        note="供应商确认卡密未兑换，同意退款。",
        confirmed_amount=preview_decision(case=case, agent=agent, decision="approve").now,
    )
