"""The chat in real time, in a real browser (issue 15, item 2): a buyer and an agent each on their own
page, served by uvicorn (WebSockets; live_server is WSGI only). The agent sees the buyer typing and
the message arrive without a reload; the buyer sees the reply arrive and 已读 on their own message
once the agent has it on screen."""

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests import servers

pytestmark = pytest.mark.browser

PEOPLE = """
import json
from kameng.accounts.models import Role
from kameng.support import services
from tests import factories as f
buyer = f.buyer("live_buyer")
agent = f.staff(Role.AGENT, agent_no="4001")
supervisor = f.staff(Role.SUPERVISOR, agent_no="4002")
conversation = services.conversation_for(buyer=buyer)
services.post_message(conversation_id=conversation.pk, author=buyer, body="转人工", client_id="x")
print(json.dumps({"conversation": conversation.pk, "buyer": buyer.username, "agent": agent.username,
                  "supervisor": supervisor.username}))
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    env = servers.migrated(tmp_path_factory.mktemp("chat") / "chat.sqlite3")
    people = servers.run_django(env, PEOPLE)
    with servers.uvicorn(env, servers.free_port()) as url:
        yield url, people


@pytest.fixture
def log_in(browser):
    """log_in(url, username) -> a page of a new browser context, closed (with its socket) at the end."""
    contexts = []

    def open_page(url, username):
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        contexts.append(context)
        return logged_in(context.new_page(), url, username)

    yield open_page
    for context in contexts:
        context.close()


def logged_in(page, url, username):
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f.PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator("header.top")).to_contain_text("退出")
    return page


def test_buyer_and_agent_chat_live_with_typing_and_read_receipts(log_in, site):
    url, people = site
    conversation = people["conversation"]
    buyer = log_in(url, people["buyer"])
    agent = log_in(url, people["agent"])
    buyer.goto(f"{url}/support/c/{conversation}/")
    agent.goto(f"{url}/support/staff/c/{conversation}/")
    for page in (buyer, agent):
        expect(page.locator("#transcript")).to_have_attribute("data-live", "1")

    buyer.fill("#chat-body", "我的点卡显示已使用")  # typing, before sending
    expect(agent.locator("#chat-typing")).to_have_text("买家正在输入…")
    buyer.click("button[value=send]")
    expect(agent.locator("#transcript li.msg-buyer").last).to_contain_text("我的点卡显示已使用")
    mine = buyer.locator("#transcript li.msg-buyer").last
    expect(mine).to_contain_text("我的点卡显示已使用")
    expect(mine).not_to_have_class("pending")
    expect(mine.locator(".read")).to_have_text("已读")  # the agent's page has it on screen

    agent.fill("#chat-body", "您好，客服 4001 为您核实 <script>x</script>")
    agent.click("button[value=reply]")
    reply = buyer.locator("#transcript li.msg-agent").last
    expect(reply).to_contain_text("您好，客服 4001 为您核实 <script>x</script>")  # text, never HTML
    expect(buyer.locator("#conv-state")).to_have_text("人工客服处理中")
    expect(agent.locator("#transcript li.msg-agent").last.locator(".read")).to_have_text("已读")
    # Nothing shown twice, though it came by echo, by the group and by the page's own reload.
    buyer.reload()
    expect(buyer.locator("#transcript li", has_text="我的点卡显示已使用")).to_have_count(1)


def test_a_second_agent_is_warned_that_the_conversation_is_open_and_who_types(log_in, site):
    url, people = site
    path = f"{url}/support/staff/c/{people['conversation']}/"
    first = log_in(url, people["agent"])
    second = log_in(url, people["supervisor"])
    first.goto(path)
    second.goto(path)
    expect(second.locator("#viewers")).to_contain_text("客服 4001 也打开了这个会话")
    expect(first.locator("#viewers")).to_contain_text("客服 4002 也打开了这个会话")
    second.fill("#chat-body", "我来回复")
    expect(first.locator("#chat-typing")).to_have_text("客服 4002 正在输入…")
    second.close()
    expect(first.locator("#viewers")).to_be_hidden()


@pytest.mark.django_db(transaction=True)
def test_without_websockets_the_page_polls_and_posts_as_before(log_in, live_server):
    """live_server is WSGI: the socket never opens, so the page falls back to polling and the form."""
    from kameng.accounts.models import Role
    from kameng.support import services

    buyer = f.buyer()
    agent = f.staff(Role.AGENT, agent_no="4010")
    conversation = services.conversation_for(buyer=buyer)
    page = log_in(live_server.url, buyer.username)
    page.goto(f"{live_server.url}/support/c/{conversation.pk}/")
    page.fill("#chat-body", "转人工")
    page.click("button[value=send]")  # a plain POST and a redirect
    expect(page.locator("#transcript li.msg-buyer")).to_contain_text("转人工")
    expect(page.locator("#transcript")).not_to_have_attribute("data-live", "1")

    services.post_message(conversation_id=conversation.pk, author=agent, body="轮询也能收到", client_id="p1")
    expect(page.locator("#transcript li.msg-agent")).to_contain_text("轮询也能收到", timeout=10_000)
