import pytest


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """The journeys are a Chinese-speaking shopper's: headless chromium would otherwise send
    Accept-Language: en-US, and the site now really answers in English (see tests/test_i18n.py)."""
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
