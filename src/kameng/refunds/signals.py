"""What the refund engine tells the apps above it, without importing them (ARCHITECTURE: a lower app
tells a higher one through a documented hook or a Django signal).

`platform_deadline_missed(sender=RefundCase, case)`: a deadline the platform itself held (review,
finance, an appeal, an escalation) passed and the case was escalated. Sent inside the transaction
that escalated it, after its events are written, so a receiver's writes commit or roll back with it
(the complaint it raises is never lost between the two).
"""

from django.dispatch import Signal

platform_deadline_missed = Signal()
