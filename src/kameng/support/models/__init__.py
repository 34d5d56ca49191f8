"""Customer service's data (SPEC §8), one module per area; every model is importable from here."""

from .conversations import (
    Answer,
    AuthorKind,
    Call,
    Channel,
    Commitment,
    Conversation,
    ConversationState,
    Message,
    MessageAttachment,
    Presence,
    Promotion,
)
from .paychannel import (
    ChannelCall,
    ChannelComplaint,
    ChannelComplaintRule,
    DeadlineUnit,
    PayChannel,
    SandboxChannelCall,
)
from .wechat import WeChatBindCode, WeChatBinding, WeChatInbound, WeChatOutbound

__all__ = [
    "Answer",
    "AuthorKind",
    "Call",
    "Channel",
    "ChannelCall",
    "ChannelComplaint",
    "ChannelComplaintRule",
    "Commitment",
    "Conversation",
    "ConversationState",
    "DeadlineUnit",
    "Message",
    "MessageAttachment",
    "PayChannel",
    "Presence",
    "Promotion",
    "SandboxChannelCall",
    "WeChatBindCode",
    "WeChatBinding",
    "WeChatInbound",
    "WeChatOutbound",
]
