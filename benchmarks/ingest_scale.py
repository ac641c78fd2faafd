"""Ingest and validate at scale: per-row cost at each size, peak RSS, and an item lookup.

Reuses ``benchmarks/ingest_validate.py``'s seeded generator, its govflow worker (the ingest
flow in a subprocess of its own against a local Prefect server, the validation gate answered
through the real CLI; the gate's wait is excluded) and its time attribution. After each
ingest, a lookup worker times "which versions contain item H" (``versions_containing``) for
an item of the raw version in a fresh process, twice: the first call reads and checks the
snapshots, the second is the warm figure printed in the last line.

Last line: ``ingest_scale: 10M rows in X s, per-row cost 10M/1M = X.XXx, peak RSS = X.XX GB,
item lookup = X.XX s`` (with the largest and smallest sizes given).
Targets: per-row cost ratio <= 1.2x, peak RSS < 4 GB, item lookup < 1 s.

Usage: .venv/bin/python benchmarks/ingest_scale.py [--rows 1000000,10000000]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
_spec = importlib.util.spec_from_file_location("ingest_validate", HERE / "ingest_validate.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)  # type: ignore[union-attr]


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n:,}"


def lookup_worker(version_id: str) -> None:
    """Time versions_containing for the middle row of a version, cold then warm."""
    from govflow.ledger.datasets import read_version_hashes
    from govflow.ledger.engine import Ledger
    from govflow.ledger.version_rows import versions_containing

    ledger = Ledger.open()
    with ledger.reader() as session:
        hashes = read_version_hashes(session=session, version_id=version_id)
        item = hashes[len(hashes) // 2]
        timings, found = [], []
        for _ in range(2):
            started = time.perf_counter()
            found = versions_containing(session=session, item_hash=item)
            timings.append(time.perf_counter() - started)
    ledger.dispose()
    print("RESULT " + json.dumps({"cold": timings[0], "warm": timings[1], "versions": found}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000,10000000", help="comma-separated sizes")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--lookup", help="internal: time the item lookup in this version")
    args = parser.parse_args()
    if args.lookup:
        lookup_worker(args.lookup)
        return

    from tests.support.prefect_server import PrefectServer, free_port, remove

    sizes = sorted(int(s) for s in args.rows.split(","))
    work = Path(tempfile.mkdtemp(prefix="govflow-scale-bench-"))
    port = free_port()
    env = os.environ | {
        "PREFECT_HOME": str(work / "prefect"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "GOVFLOW_HOME": str(work / "govflow"),
        "GOVFLOW_SNAPSHOT_URL": str(work / "snapshots"),
        "GOVFLOW_ACTOR": "benchmark",
        "GOVFLOW_REVIEW_POLL_INTERVAL": "1",
        "PYTHONPATH": os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")]),
    }
    for name in ("PREFECT_API_AUTH_STRING", "PREFECT_UI_URL", "GOVFLOW_REVIEW_WEBHOOK_URL"):
        env.pop(name, None)
        os.environ.pop(name, None)
    os.environ.update(env)
    print(f"ingest_scale: sizes {sizes}, seed {args.seed}")
    server = PrefectServer(port, work / "prefect").start()
    results = {}
    try:
        for n in sizes:
            made = bench.run_worker(
                "generate", env, rows=str(n), seed=str(args.seed + n), out=str(work)
            )
            path = Path(made["path"])
            config = bench.write_config(path)
            run_env = env | {"GOVFLOW_DATABASE_URL": f"sqlite:///{work / f'ledger-{n}.db'}"}
            os.environ.update(run_env)
            token = bench.prepare_ledger(run_env["GOVFLOW_DATABASE_URL"], work)
            name = f"bench-scale-{n}-{uuid.uuid4().hex[:8]}"
            answerer = bench.GateAnswerer(name, token, run_env)
            answerer.start()
            try:
                gov = bench.run_worker(
                    "govflow",
                    run_env,
                    rows=str(n),
                    data=str(path),
                    config=str(config),
                    run_name=name,
                )
            finally:
                answerer.stop.set()
                answerer.join(timeout=30)
            if gov["error"]:
                print(f"{n:,} rows: the ingest flow ended {gov['state']}:\n{gov['error']}")
                raise SystemExit(1)
            path.unlink()
            seconds = bench.attribute(gov)["effective"]
            raw_id = gov["result"]["raw_version_id"]
            proc = bench.subprocess.run(
                [sys.executable, __file__, "--lookup", raw_id],
                env=run_env,
                capture_output=True,
                text=True,
            )
            lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
            if proc.returncode != 0 or not lines:
                print(proc.stdout[-2000:], proc.stderr[-4000:])
                raise SystemExit(1)
            lookup = json.loads(lines[-1].removeprefix("RESULT "))
            results[n] = (seconds, gov["peak_rss"], lookup)
            print(
                f"  {n:>11,} rows: {seconds:7.1f} s ({seconds / n * 1e6:.2f} us a row), peak RSS "
                f"{bench.fmt_gb(gov['peak_rss'])}, item lookup {lookup['warm']:.2f} s warm "
                f"({lookup['cold']:.2f} s cold; in {len(lookup['versions'])} versions)"
            )
    finally:
        server.stop()
        remove(work)
    big, small = max(sizes), min(sizes)
    seconds, _, lookup = results[big]
    ratio = (seconds / big) / (results[small][0] / small)
    peak_all = max(p for _, p, _ in results.values())
    print(
        f"ingest_scale: {label(big)} rows in {seconds:.1f} s, per-row cost "
        f"{label(big)}/{label(small)} = {ratio:.2f}x, peak RSS = {peak_all / bench.GB:.2f} GB, "
        f"item lookup = {lookup['warm']:.2f} s"
    )


if __name__ == "__main__":
    main()
