"""The WeChat official account channel (SPEC §8, §12), the lower half: the signed plain-mode protocol
WeChat posts to /channels/wechat/ (`protocol`), the customer-service message interface replies go
out through (`client`, with a sandbox that behaves like WeChat), and the outbox of replies waiting to
go (`outbox`). What happens to each message received is `support.wechat_inbox`, which sits above the
support services it calls (the services call `outbox.relay`, so this package must not import them)."""
