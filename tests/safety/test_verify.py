"""验证客服 (issue 16, item 1): a buyer checks what a caller, a mail or a chat gave them. Formatting
does not fool the check, look-alikes are named as impersonations, and the page and the API agree."""

import pytest

from kameng.accounts.models import Role
from kameng.safety.models import OfficialChannel
from tests import factories as f

pytestmark = pytest.mark.django_db


def verify(client, value):
    response = client.get("/api/verify", {"value": value})
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(
    "value",
    [
        "4008206166",
        "400 820 6166",
        "+86 400-820-6166",
        "400-820-6166",
        "４００８２０６１６６",
        "(400) 820.6166",
        "0086 4008206166",
        "400\u200b820\u200b6166",
        "四零零八二零六一六六",
    ],
)
def test_the_hotline_in_any_format_is_official(client, value):
    answer = verify(client, value)
    assert answer == {
        "value": value,
        "official": True,
        "kind": "phone",
        "name": "官方客服热线",
        "advice": answer["advice"],
    }
    assert "绝不会索要密码" in answer["advice"]


@pytest.mark.parametrize("value", ["4008206167", "400 820 616", "+86 400-820-6166-1", "13800138000"])
def test_another_number_is_not(client, value):
    answer = verify(client, value)
    assert answer["official"] is False and answer["kind"] == "phone" and answer["name"] is None
    assert "400-820-6166" in answer["advice"]  # where to find the real one


@pytest.mark.parametrize("value", ["support@kameng.local", "Support@KAMENG.local", " SUPPORT@kameng.LOCAL "])
def test_the_support_address_is_official_whatever_its_case(client, value):
    answer = verify(client, value)
    assert answer["official"] is True and answer["kind"] == "email" and answer["name"] == "官方客服邮箱"


@pytest.mark.parametrize(
    ("value", "kind", "hint"),
    [
        ("support@kameng-local.com", "email", "很像"),
        ("support@kameng.local.evil.cn", "email", "很像"),
        ("kefu@kameng.local", "email", ""),
        ("kameng.local.evil.cn", "domain", "很像"),
        ("https://kameng.local@evil.cn/refund", "link", "@"),
        ("http://kameng.local.evil.cn/", "link", "很像"),
        ("https://kаmeng.local/", "link", "国际化域名"),  # a Cyrillic а
        ("https://xn--kmeng-3ve.local/", "link", "国际化域名"),
        ("卡盟官方服務號", "social", "繁体"),
        ("卡盟官方服务", "social", "很像"),
        ("卡盟官方客服号", "social", "很像"),
        ("javascript:alert(1)", "unknown", ""),
    ],
)
def test_look_alikes_are_not_official_and_say_why(client, value, kind, hint):
    answer = verify(client, value)
    assert answer["official"] is False, value
    assert answer["kind"] == kind, value
    assert hint in answer["advice"]
    assert "不要转账" in answer["advice"]


@pytest.mark.parametrize(
    "value",
    [
        "kameng.local",
        "https://kameng.local/refunds/3/",
        "www.kameng.local/help",
        "卡盟官方服务号",
        "卡盟官方服务号 ",
    ],
)
def test_the_site_and_the_wechat_account_are_official(client, value):
    assert verify(client, value)["official"] is True


def test_agent_numbers_are_official_while_the_agent_works_here(client):
    agent = f.staff(Role.AGENT)
    agent.agent_no = "1001"
    agent.save()
    assert verify(client, "1001") | {"advice": ""} == {
        "value": "1001",
        "official": True,
        "kind": "agent",
        "name": "客服 1001",
        "advice": "",
    }
    assert verify(client, "工号1001")["official"] is True
    assert verify(client, "1002")["official"] is False
    agent.is_active = False  # left the company
    agent.save()
    assert verify(client, "1001")["official"] is False
    buyer = f.buyer("有工号的买家")
    buyer.agent_no = "7777"  # a number on a buyer's account is nobody's 工号
    buyer.save()
    assert verify(client, "7777")["official"] is False


def test_an_admin_adds_a_channel_and_it_counts_in_any_format(client):
    OfficialChannel.objects.create(kind="phone", value="021-6888 1234", name="上海客服中心")
    assert verify(client, "02168881234")["name"] == "上海客服中心"
    OfficialChannel.objects.filter(kind="phone", value="021-6888 1234").update(is_active=False)
    assert verify(client, "02168881234")["official"] is False


def test_the_page_says_the_same_as_the_api(client):
    page = client.get("/verify/", {"value": "+86 400-820-6166"}).content.decode()
    assert 'class="badge ok"' in page and "官方客服热线" in page and 'class="badge bad"' not in page
    page = client.get("/verify/", {"value": "<script>alert(1)</script>@evil.cn"}).content.decode()
    assert 'class="badge bad"' in page and "<script>alert(1)" not in page
    assert client.get("/verify/").status_code == 200


def test_bad_input_gets_a_clear_answer(client):
    assert client.get("/api/verify").status_code == 422
    assert client.get("/api/verify", {"value": "x" * 301}).status_code == 422
    assert verify(client, "   ")["kind"] == "unknown"


def test_the_help_centre_shows_the_registrys_contacts(client):
    OfficialChannel.objects.filter(kind="phone").update(is_active=False)
    OfficialChannel.objects.create(kind="phone", value="400-111-2222", name="新客服热线")
    page = client.get("/support/").content.decode()
    assert "400-111-2222" in page and "400-820-6166" not in page
