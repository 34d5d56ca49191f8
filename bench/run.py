"""`make bench`: objective refunds (submit → refunded, in one request) against a bare one-row insert,
on the same server and database, in the same run. Reported as ratios, never asserted in tests.

For each database (SQLite always; PostgreSQL when reachable) it migrates a fresh database, seeds
buyers with undelivered orders, starts uvicorn, and drives both endpoints from `CONCURRENCY`
keep-alive connections. Prints a table and writes bench/results.json.
"""

import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
N = int(os.environ.get("BENCH_REQUESTS", "600"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
LATENCY_N = int(os.environ.get("BENCH_LATENCY_REQUESTS", "150"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WARMUP = 50  # requests of each endpoint before measuring, so neither pays first-use costs in a round
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/kameng_bench")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_reachable() -> bool:
    try:
        import psycopg

        psycopg.connect(PG_URL.rsplit("/", 1)[0] + "/postgres", connect_timeout=3).close()
        return True
    except Exception:
        return False


def reset_pg() -> None:
    import psycopg

    name = PG_URL.rsplit("/", 1)[1]
    with psycopg.connect(PG_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def run(cmd, env, **kw):
    return subprocess.run(cmd, env=env, cwd=ROOT, check=True, **kw)


def drive(
    port: int, path: str, bodies: list[dict], creds: list[dict], concurrency: int = CONCURRENCY
) -> dict:
    """POST each body once, `concurrency` connections at a time; returns latencies and throughput."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    jobs = list(enumerate(bodies))
    cursor = {"i": 0}

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if cursor["i"] >= len(jobs):
                    break
                i, body = jobs[cursor["i"]]
                cursor["i"] += 1
            c = creds[i % len(creds)]
            headers = {
                "Content-Type": "application/json",
                "X-CSRFToken": c["csrf"],
                "Cookie": f"sessionid={c['session']}; csrftoken={c['csrf']}",
            }
            t0 = time.perf_counter()
            conn.request("POST", path, body=json.dumps(body), headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            dt = time.perf_counter() - t0
            with lock:
                latencies.append(dt)
                if resp.status >= 300:
                    errors.append(f"{resp.status} {data[:200]!r}")
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        "throughput_rps": len(latencies) / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "latencies": latencies,
        "wall": wall,
    }


def _merge(parts: list[dict]) -> dict:
    """Several runs of one endpoint as one: total requests over total time, pooled percentiles."""
    latencies = sorted(x for p in parts for x in p["latencies"])
    wall = sum(p["wall"] for p in parts)
    return {
        "requests": len(latencies),
        "errors": sum(p["errors"] for p in parts),
        "first_error": next((p["first_error"] for p in parts if p["first_error"]), ""),
        "throughput_rps": len(latencies) / wall,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "latencies": latencies,
        "wall": wall,
    }


def _claim(cred: dict) -> dict:
    return {"order_no": cred["order_no"], "reason": "not_received", "demand": "full_refund"}


def bench_database(label: str, env: dict) -> dict:
    run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    seeded = subprocess.run(
        [PY, "bench/seed.py", str(N + LATENCY_N + WARMUP)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    everyone = json.loads(seeded)
    creds, solo, warm = everyone[:N], everyone[N : N + LATENCY_N], everyone[N + LATENCY_N :]
    port = free_port()
    server = subprocess.Popen(
        [
            PY,
            "-m",
            "uvicorn",
            "kameng.asgi:application",
            "--app-dir",
            "src",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--workers",
            str(WORKERS),
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/api/health")
                break
            except OSError:
                time.sleep(0.1)
        # Warm up the process and the connection pool on both endpoints alike: first uses (imports,
        # new pool connections) would otherwise fall into the first round of whichever endpoint
        # had not run yet.
        drive(port, "/api/bench/insert", [{}] * WARMUP, warm)
        drive(port, "/api/refunds", [_claim(c) for c in warm], warm)
        # Alternate the two in rounds: a shared machine speeds up and slows down over a minute, and
        # a ratio of two phases run back to back once would mostly measure that drift.
        per_round = N // ROUNDS
        rounds = []
        for r in range(ROUNDS):
            part = creds[r * per_round : (r + 1) * per_round]
            rounds.append(
                (
                    drive(port, "/api/bench/insert", [{}] * per_round, part),
                    drive(port, "/api/refunds", [_claim(c) for c in part], part),
                )
            )
        baseline = _merge([b for b, _ in rounds])
        refunds = _merge([r for _, r in rounds])
        round_ratios = [r["throughput_rps"] / b["throughput_rps"] for b, r in rounds]  # in round order
        # Latency on its own: one buyer at a time, nothing queued in front of the request.
        solo_baseline = drive(port, "/api/bench/insert", [{}] * LATENCY_N, solo, concurrency=1)
        solo_refunds = drive(port, "/api/refunds", [_claim(c) for c in solo], solo, concurrency=1)
    finally:
        server.terminate()
        server.wait(10)
    check = subprocess.run(
        [PY, "manage.py", "check_ledger"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    refunded = (
        subprocess.run(
            [
                PY,
                "manage.py",
                "shell",
                "-c",
                "from kameng.refunds.models import RefundCase as C; print(C.objects.filter(stage='refunded').count())",
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    return {
        "database": label,
        "baseline": baseline,
        "objective_refund": refunds,
        "baseline_1conn": solo_baseline,
        "objective_refund_1conn": solo_refunds,
        "throughput_ratio": statistics.median(round_ratios),
        "round_ratios": round_ratios,
        "refunded_cases": int(refunded) - WARMUP,
        "ledger": check.stdout.strip() or check.stderr.strip(),
    }


def main() -> int:
    results = []
    tmp = Path(tempfile.mkdtemp(prefix="kameng-bench-"))
    base_env = {
        **os.environ,
        "KAMENG_BENCH": "1",
        "KAMENG_SANDBOX": "1",  # the seed pays its orders through the sandbox gateway
        "KAMENG_VAR_DIR": str(tmp),
        "KAMENG_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT / "src"),
    }
    base_env.pop("KAMENG_DATABASE_URL", None)
    try:
        results.append(
            bench_database("sqlite", {**base_env, "KAMENG_SQLITE_PATH": str(tmp / "bench.sqlite3")})
        )
        if pg_reachable():
            reset_pg()
            results.append(bench_database("postgresql", {**base_env, "KAMENG_DATABASE_URL": PG_URL}))
        else:
            print("PostgreSQL not reachable: PostgreSQL bench skipped")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"\nobjective refund (submit → 已退款 in one request) vs bare one-row insert; "
        f"{N} requests each on {CONCURRENCY} connections in {ROUNDS} alternating rounds (throughput), "
        f"{LATENCY_N} on 1 connection (latency), "
        "same server and database\n"
    )
    print(f"{'database':<11} {'endpoint':<22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for r in results:
        for name in ("baseline", "objective_refund", "baseline_1conn", "objective_refund_1conn"):
            m = r[name]
            print(
                f"{r['database']:<11} {name:<17} {m['throughput_rps']:>8.1f} {m['p50_ms']:>8.1f} {m['p99_ms']:>8.1f} "
                f"{m['errors']:>6}"
            )
        print(
            f"{r['database']:<11} throughput ratio refund/baseline = {r['throughput_ratio']:.2f} "
            f"(median of {ROUNDS} alternating rounds: {', '.join(f'{x:.2f}' for x in r['round_ratios'])}; "
            f"floor ≥ 0.35, p99 on one connection ≤ 50 ms); refunded cases {r['refunded_cases']}/{N + LATENCY_N}; {r['ledger']}"
        )
    for r in results:
        for m in r.values():
            if isinstance(m, dict):
                m.pop("latencies", None)
                m.pop("wall", None)
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    bad = [r for r in results if r["objective_refund"]["errors"] or r["refunded_cases"] != N + LATENCY_N]
    if bad:
        print(
            "bench FAILED: "
            + "; ".join(f"{r['database']}: {r['objective_refund']['first_error']}" for r in bad)
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
