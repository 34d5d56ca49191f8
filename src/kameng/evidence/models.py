import hashlib
import json

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# What json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str) writes,
# without building a new encoder for every event.
_canonical_json = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
).encode


class Event(models.Model):
    """An append-only fact: who did what, when, under which clause.

    Events form one chain per stream ("order:<id>", "case:<id>"): each carries the hash of the one
    before, so a changed or deleted event is detectable. The writer holds the lock of the stream's
    owner row (the order or the case); the unique (stream, seq) constraint catches anyone who did not.
    """

    stream = models.CharField(max_length=40, db_index=False)
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=60, blank=True)
    data = models.JSONField(default=dict, blank=True)
    clause = models.CharField(max_length=20, blank=True, help_text=_("条款号@版本"))
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["stream", "seq"], name="event_stream_seq_unique")]
        ordering = ["stream", "seq"]
        verbose_name = _("事件")
        verbose_name_plural = _("事件")

    def __str__(self) -> str:
        return f"{self.stream}#{self.seq} {self.kind}"

    def compute_hash(self) -> str:
        body = _canonical_json(
            {
                "stream": self.stream,
                "seq": self.seq,
                "kind": self.kind,
                "actor": self.actor_id,
                "actor_label": self.actor_label,
                "data": self.data,
                "clause": self.clause,
                "at": self.created_at.isoformat(),
                "prev": self.prev_hash,
            }
        )
        return hashlib.sha256(body.encode()).hexdigest()
