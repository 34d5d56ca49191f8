"""Customer service's data (SPEC §8), one module per area; every model is importable from here."""

from .conversations import (
    AgentSkill,
    Answer,
    AuthorKind,
    Call,
    CannedReply,
    Channel,
    Commitment,
    Conversation,
    ConversationState,
    Department,
    Message,
    MessageAttachment,
    Presence,
    Promotion,
)
from .mail import InboundMail, OutboundMail, new_reply_token
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
    "AgentSkill",
    "Answer",
    "AuthorKind",
    "Call",
    "CannedReply",
    "Channel",
    "ChannelCall",
    "ChannelComplaint",
    "ChannelComplaintRule",
    "Commitment",
    "Conversation",
    "ConversationState",
    "DeadlineUnit",
    "Department",
    "InboundMail",
    "Message",
    "MessageAttachment",
    "OutboundMail",
    "PayChannel",
    "Presence",
    "Promotion",
    "SandboxChannelCall",
    "WeChatBindCode",
    "WeChatBinding",
    "WeChatInbound",
    "WeChatOutbound",
    "new_reply_token",
]
