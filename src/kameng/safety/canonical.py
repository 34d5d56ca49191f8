"""Values reduced to the one form they are compared in: a phone number to its digits, an address
or a host name to lower case and punycode, an account name to its folded characters. Used by the
registry's rows (stored normalised) and by the check."""

import re
import unicodedata

# Characters that render as nothing: stripped before anything is compared.
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
CHINESE_DIGITS = str.maketrans("零〇一二三四五六七八九幺", "001234567891")
PHONE_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―.()（）/]+")
PHONE, EMAIL, DOMAIN = "phone", "email", "domain"


def clean(value: str) -> str:
    """Full-width to half-width (NFKC), invisible characters out, outer space trimmed."""
    return unicodedata.normalize("NFKC", value or "").translate(INVISIBLE).strip()


def phone_digits(value: str) -> str | None:
    """The digits of a phone number as dialled inside China, or None when it is not one."""
    text = clean(value).translate(CHINESE_DIGITS)
    text = PHONE_SEPARATORS.sub("", text)
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif text.startswith("+"):
        return text if text[1:].isdigit() and 7 <= len(text) <= 16 else None
    return text if text.isdigit() and 7 <= len(text) <= 15 else None


def host_ascii(host: str) -> str | None:
    """A host name in the form DNS compares: lower case, internationalised labels as punycode."""
    host = host.strip().rstrip(".").lower()
    if not host:
        return None
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def normalized(kind: str, value: str) -> str:
    """The canonical form a registry row is stored under (OfficialChannel.normalized)."""
    text = clean(value)
    if kind == PHONE:
        return phone_digits(text) or text
    if kind == EMAIL:
        local, _at, domain = text.rpartition("@")
        return f"{local.lower()}@{host_ascii(domain) or domain.lower()}"
    if kind == DOMAIN:
        return host_ascii(text) or text.lower()
    return account_key(text)


def account_key(name: str) -> str:
    """An account name as people read it: case and width folded. Traditional characters are NOT
    folded here: 卡盟官方服務號 is a different account that a scammer registered."""
    return clean(name).casefold().replace(" ", "")
