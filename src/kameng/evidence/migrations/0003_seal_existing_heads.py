"""Seal the head of every stream written before heads existed. The seal formula is written out
here (the same as kameng.evidence.services.seal) so that this migration does not change if that
code does."""

from django.conf import settings
from django.db import migrations
from django.db.models import Max
from django.utils import timezone
from django.utils.crypto import salted_hmac


def seal_heads(apps, schema_editor):
    Event = apps.get_model("evidence", "Event")
    StreamHead = apps.get_model("evidence", "StreamHead")
    now = timezone.now()
    last_seqs = Event.objects.values("stream").annotate(last=Max("seq")).order_by("stream")
    batch = []
    for row in last_seqs.iterator(chunk_size=2000):
        event = Event.objects.only("hash").get(stream=row["stream"], seq=row["last"])
        value = f"{row['stream']}\n{row['last']}\n{event.hash}"
        seal = salted_hmac(
            "kameng.evidence.stream-head", value, secret=settings.EVIDENCE_KEY, algorithm="sha256"
        ).hexdigest()
        batch.append(StreamHead(stream=row["stream"], seq=row["last"], hash=event.hash, seal=seal, updated_at=now))
        if len(batch) >= 2000:
            StreamHead.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    StreamHead.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("evidence", "0002_stream_heads")]
    operations = [migrations.RunPython(seal_heads, migrations.RunPython.noop)]
