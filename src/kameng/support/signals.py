"""What customer service tells the apps above it (kameng.casefile) without importing them.

`commitment_missed(sender=Commitment, commitment)`: a promise to a buyer passed its deadline
unkept. Sent inside the transaction that marked it missed, so a receiver's writes (the complaint
it raises) commit or roll back with it.
"""

from django.dispatch import Signal

commitment_missed = Signal()
