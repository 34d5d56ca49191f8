"""What the refund case page asks the apps above refunds, without importing them.

Messages on the timeline. The case page shows the customer-service messages about the case's order
interleaved with its events (issue 15, item 10). Customer service sits above refunds, so refunds
cannot read its messages: the support app registers the function that can, in its
SupportConfig.ready() (kameng.support.timeline). Without one, the timeline is the case's events.
"""

from collections.abc import Callable
from typing import Literal

Audience = Literal["buyer", "staff"]
# (the case, who reads) -> timeline items: {"at", "actor", "text", "kind": "message", "channel",
# "internal", "clause": ""}, oldest first.
CaseMessages = Callable[[object, Audience], list[dict]]


def _no_messages(case, audience: Audience) -> list[dict]:
    return []


_case_messages: CaseMessages = _no_messages


def provide_case_messages(fn: CaseMessages) -> None:
    """Register the function that lists a case's messages for a reader (one per process)."""
    global _case_messages
    _case_messages = fn


def case_messages(case, audience: Audience) -> list[dict]:
    """The messages about `case`'s order `audience` may read (the buyer: public ones only)."""
    return _case_messages(case, audience)
