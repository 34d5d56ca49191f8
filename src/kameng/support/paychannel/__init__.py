"""Payment-channel complaints (SPEC §8; issue 15): a buyer who complains to WeChat Pay (消费者投诉)
or Alipay (交易投诉) instead of to us. The channel notifies us at a signed webhook (`views`), the
complaint joins the order's conversation and refund case with the channel's own deadlines
(`services`, rules as data in `ChannelComplaintRule`), and replies, the refund and completion go
back through an adapter (`client`) as durable calls sent after commit and retried (`outbox`)."""
