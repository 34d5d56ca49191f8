"""The wait estimate against what actually happened (issue 15, item 4): replays a simulated day of
customer service through the estimate the chat shows (`kameng.support.wait.estimate`) and reports its
error against the real waits of the same day.

The day: buyers ask for a person at random times (a Poisson process whose rate follows a peak at
noon and a bigger one in the evening, with a promotion between 20:00 and 22:00); agents come on duty
in shifts; each conversation takes a lognormal handling time (mean about 6 minutes). Agents take the
oldest waiting conversation when free. At every arrival the estimate is asked, with the database in
the state the real system would be in at that moment (queued rows, agents' presence, recently closed
conversations); when the conversation is taken, its real wait is known.

Run: `.venv/bin/python bench/wait_replay.py` (a scratch SQLite database; `make bench` runs it too).
Prints the table and writes bench/wait_results.json.
"""

import heapq
import json
import math
import os
import random
import statistics
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = int(os.environ.get("BENCH_SEED", "7"))


def setup_django(db_path: str) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "kameng.settings"
    os.environ["KAMENG_SQLITE_PATH"] = db_path
    os.environ.pop("KAMENG_DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def rate_per_hour(hour: float) -> float:
    """Requests for a person per hour: quiet at night, a noon peak, a bigger evening peak."""
    base = 6 + 30 * math.exp(-((hour - 12.5) ** 2) / 2) + 55 * math.exp(-((hour - 20.5) ** 2) / 1.5)
    return base if 8 <= hour < 23 else 1.0


def agents_on_duty(hour: float) -> int:
    if 9 <= hour < 13:
        return 3
    if 13 <= hour < 18:
        return 2
    if 18 <= hour < 23:
        return 4
    return 0


def simulate(day: datetime, rng: random.Random) -> list[dict]:
    """Arrivals and agents' shifts; returns the events in time order."""
    arrivals, t = [], 0.0
    while t < 24:
        rate = max(rate_per_hour(t), 0.5)
        t += rng.expovariate(rate)
        if t < 24:
            arrivals.append(day + timedelta(hours=t))
    return arrivals


def replay() -> dict:
    from django.utils import timezone

    from kameng.accounts.models import Role, User
    from kameng.accounts.services import create_staff
    from kameng.support import wait
    from kameng.support.models import Conversation, ConversationState, Presence, Promotion

    rng = random.Random(SEED)
    day = timezone.make_aware(datetime(2026, 12, 7))  # a Monday: a working day
    Promotion.objects.create(
        name="夜场促销", starts_at=day + timedelta(hours=20), ends_at=day + timedelta(hours=22)
    )
    agents = [
        create_staff(username=f"agent{i}", password="x" * 12, roles=[Role.AGENT], agent_no=f"{900 + i}")
        for i in range(4)
    ]
    arrivals = simulate(day, rng)
    # Buyers need no password here: hashing a few hundred would only time the hasher.
    buyers = User.objects.bulk_create([User(username=f"b{i}") for i in range(len(arrivals))])

    # Event queue: (time, order, kind, payload)
    events: list = []
    for i, at in enumerate(arrivals):
        heapq.heappush(events, (at, 1, i, "arrive"))
    for h in range(25):
        heapq.heappush(events, (day + timedelta(hours=h), 0, h, "shift"))
    waiting: list[tuple[datetime, int]] = []  # (queued_at, conversation id), oldest first
    free_at = {a.pk: None for a in agents}  # agent → busy until (None: free)
    on_duty: set[int] = set()
    records: dict[int, dict] = {}

    def start_free_agents(now: datetime) -> None:
        for agent in agents:
            if agent.pk not in on_duty or free_at[agent.pk] is not None or not waiting:
                continue
            queued_at, conv_id = waiting.pop(0)
            handle = timedelta(minutes=rng.lognormvariate(math.log(5.2), 0.55))
            Conversation.objects.filter(pk=conv_id).update(
                state=ConversationState.WITH_AGENT, agent=agent, claimed_at=now
            )
            records[conv_id]["actual"] = (now - queued_at).total_seconds() / 60
            free_at[agent.pk] = now + handle
            heapq.heappush(events, (now + handle, 0, conv_id, ("done", agent.pk)))

    while events:
        now, _order, ident, kind = heapq.heappop(events)
        if kind == "shift":
            hour = ident
            wanted = agents_on_duty(hour % 24) if hour < 24 else 0
            on_duty = {a.pk for a in agents[:wanted]}
            for agent in agents:
                Presence.objects.update_or_create(
                    user=agent,
                    defaults={"status": "online" if agent.pk in on_duty else "away", "seen_at": now},
                )
        elif kind == "arrive":
            conv = Conversation.objects.create(
                buyer=buyers[ident], state=ConversationState.QUEUED, queued_at=now, last_message_at=now
            )
            Presence.objects.filter(status="online").update(seen_at=now)  # agents at their desks
            estimate = wait.estimate(conv, now=now)
            records[conv.pk] = {"at": now, "estimate": estimate.minutes, "position": estimate.position}
            waiting.append((now, conv.pk))
        else:
            _done, agent_pk = kind
            Conversation.objects.filter(pk=ident).update(state=ConversationState.CLOSED, closed_at=now)
            free_at[agent_pk] = None
        start_free_agents(now)

    served = [r for r in records.values() if "actual" in r and r["estimate"] is not None]
    unestimated = [r for r in records.values() if r["estimate"] is None]
    errors = [r["estimate"] - r["actual"] for r in served]
    absolute = sorted(abs(e) for e in errors)
    peak = [r for r in served if r["at"].hour in (20, 21)]
    peak_abs = sorted(abs(r["estimate"] - r["actual"]) for r in peak)

    def pct(values, q):
        return values[min(len(values) - 1, int(q * len(values)))] if values else None

    return {
        "requests": len(records),
        "estimated_and_served": len(served),
        "told_no_agent_online": len(unestimated),
        "actual_wait_median_min": round(statistics.median(r["actual"] for r in served), 1),
        "mean_abs_error_min": round(statistics.mean(absolute), 1),
        "median_abs_error_min": round(pct(absolute, 0.5), 1),
        "p90_abs_error_min": round(pct(absolute, 0.9), 1),
        "bias_min": round(statistics.mean(errors), 1),
        "within_5_min": round(sum(a <= 5 for a in absolute) / len(absolute), 2),
        "peak_20_22_mean_abs_error_min": round(statistics.mean(peak_abs), 1) if peak_abs else None,
        "model": "moving average: place × mean handling time of the last 30 closed ÷ agents online",
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(str(Path(tmp) / "wait.sqlite3"))
        result = replay()
    width = max(len(k) for k in result)
    print("Wait estimate against the real waits of a simulated day")
    for key, value in result.items():
        print(f"  {key:<{width}}  {value}")
    (ROOT / "bench" / "wait_results.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
