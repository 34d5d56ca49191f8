"""The refund engine's actions, one module per family (filing, seller, review, buyer, finance,
payout, timers). Each public action locks with `common.lock_case` (the order row, then the case
row), checks with a `check_…` rule that pages also call to offer the action, changes the case
through a `CaseChange` and saves it last. `kameng.refunds.services` is the door other code uses."""
