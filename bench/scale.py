"""`make bench-scale`: how the operations that grow with the data cost at 1,000 / 10,000 / 100,000
refund cases (3 in 10 open) on PostgreSQL. Reported, never asserted (the tests count statements).

For each size it recreates a scratch database (`BENCH_SCALE_PG_URL`, default
postgres://postgres@127.0.0.1:5432/kameng_bench_scale), migrates it, seeds it with
`kameng.ops.scale.seed_cases` (bulk_create), runs ANALYZE, then times each operation in-process:
one warm-up run (none for verify_chain), then `BENCH_SCALE_RUNS` (7) runs (3 for verify_chain):
median wall time, and the statements of the first of them. Sizes: `BENCH_SCALE_SIZES` (default
1000,10000,100000). Prints a table with each figure's ratio to the smallest size, writes
bench/scale-results.json and the section of bench/README.md between the scale markers.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("BENCH_SCALE_PG_URL", "postgres://postgres@127.0.0.1:5432/kameng_bench_scale")
SIZES = [int(s) for s in os.environ.get("BENCH_SCALE_SIZES", "1000,10000,100000").split(",") if s]
RUNS = int(os.environ.get("BENCH_SCALE_RUNS", "7"))
OPERATIONS = [
    "verify_chain",
    "tick",
    "staff queue (default)",
    "staff queue 已退款",
    "seller's case list",
    "buyer's API case list",
    "case page",
]
BEGIN, END = "<!-- bench-scale:begin -->", "<!-- bench-scale:end -->"


def reset_database() -> None:
    import psycopg

    name = PG_URL.rsplit("/", 1)[1]
    with psycopg.connect(PG_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def environment() -> dict:
    env = {
        **os.environ,
        "KAMENG_DATABASE_URL": PG_URL,
        "KAMENG_SANDBOX": "0",
        "KAMENG_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT / "src"),
        "DJANGO_SETTINGS_MODULE": "kameng.settings",
    }
    return env


def measure_size(size: int) -> dict:
    """In a child process: seed `size` cases into the migrated database and time every operation."""
    import django

    django.setup()
    import io

    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from kameng.ops.scale import seed_cases
    from kameng.ops.tick import tick

    started = time.perf_counter()
    seeded = seed_cases(size)
    seed_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh statistics, as autovacuum keeps them on a live database

    def page(user, url):
        client = Client()
        client.force_login(user)

        def get():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return get

    work = {
        "verify_chain": lambda: call_command("verify_chain", stdout=io.StringIO()),
        "tick": tick,
        "staff queue (default)": page(seeded.agent, "/refunds/staff/"),
        "staff queue 已退款": page(seeded.agent, "/refunds/staff/?stage=refunded"),
        "seller's case list": page(seeded.seller_owner, "/refunds/seller/"),
        "buyer's API case list": page(seeded.buyer, "/api/refunds"),
        "case page": page(seeded.buyer, f"/refunds/{seeded.case_id}/"),
    }
    figures = {}
    for name in OPERATIONS:
        run = work[name]
        if name != "verify_chain":  # its one statement streams every event: no first use to pay
            run()  # warm-up: first uses (imports, caches, the session) are not what grows
        reset_queries()  # a request resets the log when it starts: begin from an empty one
        times = []
        with CaptureQueriesContext(connection) as captured:
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
        statements = len(captured)  # now: the next request empties the log it reads from
        for _ in range((3 if name == "verify_chain" else RUNS) - 1):
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
        figures[name] = {"median_ms": 1000 * statistics.median(times), "statements": statements}
    return {"size": size, "seed_seconds": seed_seconds, "operations": figures}


def table(results: list[dict]) -> str:
    base = results[0]
    head = "| operation | " + " | ".join(f"{r['size']:,} cases" for r in results) + " |"
    lines = [head, "|---|" + "---|" * len(results)]
    for name in OPERATIONS:
        b = base["operations"][name]
        cells = []
        for r in results:
            m = r["operations"][name]
            ratio = m["median_ms"] / b["median_ms"] if b["median_ms"] else 0
            cells.append(f"{m['median_ms']:.1f} ms ×{ratio:.2f}, {m['statements']} st.")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    seeds = ", ".join(f"{r['size']:,}: {r['seed_seconds']:.0f} s" for r in results)
    lines.append("")
    lines.append(
        f"Median wall time (×: ratio to the {base['size']:,}-case figure) and statements of one run. Seeding took {seeds}."
    )
    return "\n".join(lines)


def write_readme(text: str) -> None:
    readme = ROOT / "bench" / "README.md"
    content = readme.read_text()
    if BEGIN in content and END in content:
        before, rest = content.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        content = before + BEGIN + "\n" + text + "\n" + END + after
    else:
        content += f"\n{BEGIN}\n{text}\n{END}\n"
    readme.write_text(content)


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--size":
        print(json.dumps(measure_size(int(sys.argv[2]))))
        return 0
    env = environment()
    results = []
    for size in SIZES:
        reset_database()
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True
        )
        out = subprocess.run(
            [sys.executable, __file__, "--size", str(size)],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        print(f"{size:,} cases measured", flush=True)
    text = table(results)
    print(text)
    (ROOT / "bench" / "scale-results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    write_readme(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
