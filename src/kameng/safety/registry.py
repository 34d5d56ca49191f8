"""Is this really customer service? (SPEC §9, issue 16 item 1)

A buyer pastes what a caller, a mail or a chat gave them: a number, an address, a link, an account
name or an agent's 工号. The answer must not be fooled by formatting (`400 820 6166`,
`+86 400-820-6166`, full-width digits, zero-width spaces) nor by look-alikes (`kameng-local.com`,
`kameng.local.evil.cn`, `https://kameng.local@evil.cn/`, internationalised domains, a traditional
character or one letter changed in an account name). Every value is reduced to one canonical form per
kind and compared exactly; a near miss is named as the impersonation it is."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import opencc
from django.db.models import Q
from django.utils.translation import gettext as _

from kameng.accounts.models import Role, User

from .canonical import account_key, clean, host_ascii, normalized, phone_digits
from .models import OfficialChannel

Kind = OfficialChannel.Kind
AGENT_NO = re.compile(r"^(?:工号|客服|no\.?|#)?\s*([a-z]{0,3}\d{3,6})$", re.IGNORECASE)
HOSTNAME = re.compile(r"^[^\s@/:]+\.[^\s@/:.]{2,}$")
AGENT_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.FINANCE, Role.ADMIN)
_to_simplified = opencc.OpenCC("t2s")


@dataclass(frozen=True)
class Verdict:
    value: str
    official: bool
    kind: str  # phone | email | domain | link | social | agent | unknown
    name: str | None
    advice: str

    def as_dict(self) -> dict:
        return {
            "value": self.value,
            "official": self.official,
            "kind": self.kind,
            "name": self.name,
            "advice": self.advice,
        }


def contacts() -> dict[str, str]:
    """The official email, hotline and WeChat account as pages show them (the help centre, the chat's
    wait box): the registry's first active row of each kind, so an admin's change shows everywhere."""
    shown = {"email": "", "hotline": "", "wechat": ""}
    names = {Kind.EMAIL: "email", Kind.PHONE: "hotline", Kind.SOCIAL: "wechat"}
    for kind, value in OfficialChannel.objects.filter(is_active=True, kind__in=names).values_list(
        "kind", "value"
    ):
        shown[names[kind]] = shown[names[kind]] or value
    return shown


def verify(value: str) -> Verdict:
    raw = (value or "")[:300]
    text = clean(raw)
    if not text:
        return Verdict(raw, False, "unknown", None, _("请输入要核实的号码、邮箱、网址、账号或工号。"))
    if "@" in text and "://" not in text and " " not in text:
        if re.match(r"^[^@\s]+@[^@\s]+$", text) and "/" not in text:
            return _check_email(raw, text)
    if (
        "://" in text
        or text.lower().startswith("www.")
        or ("/" in text and HOSTNAME.match(text.split("/")[0]))
    ):
        return _check_link(raw, text)
    digits = phone_digits(text)
    if digits is not None:
        return _check(raw, Kind.PHONE, digits, "phone")
    agent = AGENT_NO.match(text)
    if agent:
        return _check_agent(raw, agent.group(1))
    if HOSTNAME.match(text):
        return _check_domain(raw, text, kind="domain")
    return _check_social(raw, text)


def _official(kind: str) -> dict[str, OfficialChannel]:
    return {c.normalized: c for c in OfficialChannel.objects.filter(kind=kind, is_active=True)}


def _check(raw: str, kind: str, key: str, shown_kind: str) -> Verdict:
    found = _official(kind).get(key)
    if found is not None:
        return Verdict(raw, True, shown_kind, found.name, _official_advice(found.name))
    return Verdict(raw, False, shown_kind, None, _not_official_advice())


def _check_email(raw: str, text: str) -> Verdict:
    key = normalized(Kind.EMAIL, text)
    official = _official(Kind.EMAIL)
    if key in official:
        return Verdict(raw, True, "email", official[key].name, _official_advice(official[key].name))
    return Verdict(raw, False, "email", None, _not_official_advice(_look_alike(key, official)))


def _check_domain(raw: str, host: str, *, kind: str, userinfo: bool = False) -> Verdict:
    key = host_ascii(host)
    official = _official(Kind.DOMAIN)
    if key and not userinfo:
        for domain, row in official.items():
            if key == domain or key.endswith("." + domain):
                return Verdict(raw, True, kind, row.name, _official_advice(row.name))
    hint = ""
    if userinfo:
        hint = _("链接里“@”前面的部分只是伪装，真正打开的是“@”后面的网站。")
    elif key and (key.startswith("xn--") or ".xn--" in key):
        hint = _("这个网址含有外观相似的非英文字母（国际化域名），不是官方网站。")
    else:
        hint = _look_alike(key or host.lower(), official)
    return Verdict(raw, False, kind, None, _not_official_advice(hint))


def _check_link(raw: str, text: str) -> Verdict:
    candidate = text if "://" in text else "http://" + text
    try:
        parts = urlsplit(candidate)
        host = parts.hostname or ""
    except ValueError:
        return Verdict(raw, False, "link", None, _not_official_advice())
    if parts.scheme.lower() not in ("http", "https"):
        return Verdict(raw, False, "link", None, _not_official_advice())
    return _check_domain(raw, host, kind="link", userinfo=bool(parts.username or "@" in parts.netloc))


def _check_agent(raw: str, number: str) -> Verdict:
    agent = (
        User.objects.filter(agent_no__iexact=number, is_active=True)
        .filter(Q(groups__name__in=[str(r) for r in AGENT_ROLES]) | Q(is_superuser=True))
        .first()
    )
    if agent is not None:
        name = str(agent.public_name)
        return Verdict(raw, True, "agent", name, _official_advice(name))
    return Verdict(
        raw,
        False,
        "agent",
        None,
        _not_official_advice(_("卡盟没有在职的工号 %(no)s。") % {"no": number}),
    )


def _check_social(raw: str, text: str) -> Verdict:
    official = _official(Kind.SOCIAL)
    key = account_key(text)
    if key in official:
        row = official[key]
        return Verdict(raw, True, "social", row.name, _official_advice(row.name))
    # Not the account: say so, and say why when it imitates one.
    simplified = account_key(_to_simplified.convert(text))
    hint = ""
    for row_key, row in official.items():
        if simplified == row_key:
            hint = _("它把官方账号“%(name)s”写成了繁体字：这是另一个账号。") % {"name": row.value}
            break
    else:
        hint = _look_alike(key, official)
    kind = "social" if hint else "unknown"
    return Verdict(raw, False, kind, None, _not_official_advice(hint))


def _look_alike(key: str, official: dict[str, OfficialChannel]) -> str:
    for row_key, row in official.items():
        if key and _close(key, row_key):
            return _("它和官方的“%(value)s”很像，但不是同一个：冒充客服常用这种手法。") % {"value": row.value}
    return ""


def _skeleton(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


def _close(a: str, b: str) -> bool:
    """Within two edits of each other, or one inside the other once dots and dashes are ignored
    (kameng-local.com holds kameng.local): a look-alike, not the same."""
    if a == b:
        return False
    short, long = sorted((_skeleton(a), _skeleton(b)), key=len)
    if len(short) >= 4 and short in long:
        return True
    if abs(len(a) - len(b)) > 2:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1] <= 2


def _official_advice(name: str) -> str:
    return _(
        "这是卡盟官方的%(name)s。即便如此，官方也绝不会索要密码、短信验证码，不会要求屏幕共享，"
        "退款从不收取任何保证金、解冻费或手续费。"
    ) % {"name": name}


def _not_official_advice(hint: str = "") -> str:
    advice = _(
        "这不是卡盟的官方渠道。不要转账、不要提供密码或验证码、不要添加对方的私人微信或 QQ；"
        "请通过官方客服热线 400-820-6166、邮箱 support@kameng.local 或本站“帮助与客服”联系我们。"
    )
    return f"{hint} {advice}".strip()
