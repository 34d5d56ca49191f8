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


class StreamHead(models.Model):
    """The last event of each stream, written in the same transaction as the event. Without it a
    chain cannot tell that its last events were deleted (the chain left is still a valid chain). The
    seal is an HMAC under a key the database does not hold (settings.EVIDENCE_KEY), so whoever edits
    the tables directly cannot move the head back to hide a deletion."""

    stream = models.CharField(max_length=40, unique=True)
    seq = models.PositiveIntegerField()
    hash = models.CharField(max_length=64)
    seal = models.CharField(max_length=64)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("事件流头")
        verbose_name_plural = _("事件流头")

    def __str__(self) -> str:
        return f"{self.stream}#{self.seq}"


class ChainCheck(models.Model):
    """One run of the full chain check (the command, the staff page or the daily tick): what the
    staff page shows."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    events = models.PositiveIntegerField(default=0)
    streams = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)
    requested_by = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("事件链检查")
        verbose_name_plural = _("事件链检查")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {len(self.problems)}"

    @property
    def ok(self) -> bool:
        return self.finished_at is not None and not self.problems
