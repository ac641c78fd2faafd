"""Ingest + validate: govflow's ingest flow against a plain pandas script, 100k and 1M rows.

Data (generated, not timed): a seeded numpy generator writes an annotated-text JSONL file per
size: id ("A0000001", unique), text (40-200 characters from a Zipf vocabulary behind a few
label-typed openers, so exact duplicates are rare; ~0.5% carry an e-mail address or a phone
number), label (billing, bug, account, feature_request, other), annotator (ann01..ann40),
confidence (0..1), created_at (ISO-8601 UTC, "Z"). About 1% of the rows are bad, spread evenly
over six kinds: broken JSON, a missing required field, a wrong type (confidence "high"), a
label outside the set, confidence > 1, and a duplicate id (an earlier row's id and annotator
re-submitted with another label: the raw suite's critical expectation is (id, annotator)
unique, so this also opens govflow's validation-failure gate). Each size gets a dataset
config (YAML) with suites {raw: annotated_text.raw, preprocessed: annotated_text.preprocessed}.

Every measurement (and the generation) runs in its own subprocess of this script
(``--worker ...``) so that peak RSS is per run; a worker prints one ``RESULT {json}`` line.
Peak RSS is VmHWM from /proc/self/status: Linux carries ``ru_maxrss`` over fork and exec, so
a worker would report its parent's peak (ru_maxrss is the fallback off Linux). Imports are
done before the clock starts on both sides (govflow's import time is printed). The parent
starts its own local Prefect server (SQLite) with a temporary PREFECT_HOME and GOVFLOW_HOME
and a fresh, migrated SQLite ledger per size (GOVFLOW_DATABASE_URL).

- pandas: reads the JSONL line by line with ``json.loads`` (broken lines quarantined), applies
  the config's schema checks (required, types, max length) and the raw suite's expectations
  vectorized (not null, (id, annotator) unique, lengths, in set, between 0 and 1, regex),
  writes clean rows and the quarantine (with reasons) to Parquet.
- govflow ingest: ``flows.ingest.ingest(IngestParams(config_path=..., data_docs=False))``
  in-process against the benchmark's server. The gate it opens is answered by the parent
  with the real CLI (``govflow review decide RUN --all continue_clean``, as a reviewer it
  registered); the time the flow spends in ``request_review`` (pause, CLI start-up, poll
  interval: human time in real life) is reported but excluded from govflow's wall time.
- govflow preprocess: ``flows/preprocess.py`` loads the suite ``annotated_text.preprocessed``
  from the repository's ``expectations/`` folder (``SUITES_DIR``), and there is none, so the
  flow cannot run here. Instead its three steps are timed without Prefect in a third worker:
  ``load_version`` (ledger read of the validated version), ``preprocess_batch`` and
  ``register_frame_version`` (ledger write). Not part of the govflow/pandas ratio: the pandas
  script does no pre-processing.

govflow breakdown: from the Prefect API (``POST /task_runs/filter`` on the flow run: task run
names, start and end times) plus in-process probes (wrappers the worker installs on module
attributes that are looked up at call time): around what the flow body calls outside tasks
(load_dataset_config, suite_for, frame_for_validation, split_suite, merge_outcomes,
decide_batch, validation_failure_request, request_review) and, to split the tasks' own time,
around validate_frame, _check_chunk (schema checks), encode_frame (row hashes and Arrow
columns), register_dataset_version, write_rows (the Parquet snapshot), record_source_quarantine
and record_validation.
An RSS sampler (every 50 ms) tells which steps raised the peak. The flow's wall time W runs
from calling ``ingest`` to its return. Each instant of W is attributed to exactly one bucket,
in this order: a task run (acquisition: acquire-source; ledger writes: register-raw-version,
record-checkpoint, register-passed-rows; validation: validate-chunk, two may overlap in the
thread pool; artifacts: publish-validation-artifacts), else the review gate, else a probed
flow-body function; what is left is the Prefect orchestration overhead (flow run creation and
engine start-up, task run creation and state changes between tasks, Prefect's inspection of
task inputs, result persistence of the flow, shutdown). Time Prefect spends *inside* a task
run (e.g. persisting validate-chunk results) counts as the task's, so the overhead is a
lower bound; validate-chunk's in-task Prefect share (task time minus validate_frame time) is
printed separately. W' = W minus the gate is govflow's wall time in every ratio.

Targets: govflow/pandas <= 2x at 1M rows, Prefect overhead < 5% of W', per-row cost at 1M
<= 1.3x that at 100k, govflow peak RSS < 2 GB at 1M. The last line is:
``ingest_validate: govflow/pandas at 1M rows = X.XXx, prefect overhead = X.X%, peak RSS = X.XX GB``

Usage: .venv/bin/python benchmarks/ingest_validate.py [--rows 100000,1000000] [--seed 11]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LABELS = ["billing", "bug", "account", "feature_request", "other"]
LABEL_P = [0.28, 0.30, 0.20, 0.12, 0.10]
OPENERS = {
    "billing": ["I was charged twice for", "refund still missing for", "invoice shows wrong"],
    "bug": ["the app crashes when", "error 500 after clicking", "screen freezes while"],
    "account": ["cannot log in to", "password reset link for", "please delete my account"],
    "feature_request": ["it would be great to", "please add an option for", "wish I could"],
    "other": ["just a question about", "thanks for the help with", "where can I find"],
}
SYLLABLES = ["ka", "lo", "mi", "ter", "san", "dor", "vel", "qui", "pra", "nos", "ex", "ul", "ri"]
PII = ["email me at {n}.doe{i}@example.com", "call me on +1 415 555 {i:04d}"]
BAD_KINDS = ["broken_json", "missing_field", "wrong_type", "bad_label", "confidence_gt_1", "dup"]
REQUIRED = ["id", "text", "label", "annotator", "confidence", "created_at"]
MAX_LENGTH = {"id": 32, "text": 2000, "label": 64, "annotator": 64}
CREATED_AT_RE = (
    r"^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(?:\.\d{1,6})?Z$"
)
LEDGER_TASKS = {"register-raw-version", "record-checkpoint", "register-passed-rows"}
STAGE_OF_TASK = {
    "acquire-source": "acquisition",
    "validate-chunk": "validation",
    "publish-validation-artifacts": "artifacts",
    **{name: "ledger writes" for name in LEDGER_TASKS},
}
BUCKETS = [
    "acquisition",
    "validation",
    "ledger writes",
    "artifacts",
    "flow body",
    "prefect orchestration",
]
REVIEWER = "benchrev"
# Probed functions that run inside task runs: they split a task's time, never the flow's.
IN_TASKS = {
    "validate_frame",
    "_check_chunk",
    "encode_frame",
    "register_dataset_version",
    "write_rows",
    "record_source_quarantine",
    "record_validation",
}
GB = 1024**3


# --------------------------------------------------------------------------- data


def generate(n: int, seed: int, folder: Path) -> tuple[Path, dict[str, int]]:
    """Write ``n`` annotated-text rows (about 1% bad) as JSONL; return the path and bad counts."""
    import numpy as np

    rng = np.random.default_rng(seed)
    parts = rng.integers(0, len(SYLLABLES), size=(4000, 3))
    sizes = rng.integers(2, 4, size=4000)
    vocab = np.array(
        ["".join(SYLLABLES[k] for k in row[:s]) for row, s in zip(parts, sizes, strict=True)]
    )
    weights = 1.0 / np.arange(1, vocab.size + 1) ** 1.05
    words = vocab[rng.choice(vocab.size, size=(n, 36), p=weights / weights.sum())]
    labels = rng.choice(len(LABELS), size=n, p=LABEL_P)
    openers = rng.integers(0, 3, size=n)
    targets = rng.integers(46, 201, size=n)
    pii = rng.random(n) < 0.005
    annotators = rng.integers(1, 41, size=n)
    confidence = np.round(rng.beta(5, 2, size=n), 3)
    base = np.datetime64("2024-01-01T00:00:00")
    stamps = np.datetime_as_string(base + rng.integers(0, 2 * 365 * 86400, size=n), unit="s")

    records: list[dict[str, Any]] = []
    for i in range(n):
        label = LABELS[labels[i]]
        extra = PII[i % 2].format(n="jane" if i % 3 else "max", i=i % 10000) if pii[i] else ""
        limit = int(targets[i]) - (len(extra) + 1 if extra else 0)
        full = OPENERS[label][openers[i]] + " " + " ".join(words[i].tolist())
        cut = full.rfind(" ", 0, limit + 1)
        text = full[: cut if cut >= 40 else limit]
        if extra:
            text = f"{text} {extra}"
        records.append(
            {
                "id": f"A{i + 1:07d}",
                "text": text,
                "label": label,
                "annotator": f"ann{annotators[i]:02d}",
                "confidence": float(confidence[i]),
                "created_at": f"{stamps[i]}Z",
            }
        )

    bad = rng.choice(np.arange(1, n), size=max(len(BAD_KINDS), n // 100), replace=False)
    is_bad = np.zeros(n, dtype=bool)
    is_bad[bad] = True
    lines: dict[int, str] = {}
    counts = dict.fromkeys(BAD_KINDS, 0)
    for k, i in enumerate(sorted(bad.tolist())):
        kind = BAD_KINDS[k % len(BAD_KINDS)]
        record = records[i]
        counts[kind] += 1
        if kind == "broken_json":
            line = json.dumps(record)
            lines[i] = line[: int(rng.integers(5, len(line) - 1))]
        elif kind == "missing_field":
            field = REQUIRED[(k // len(BAD_KINDS)) % len(REQUIRED)]
            if k % 2:
                del record[field]
            else:
                record[field] = None
        elif kind == "wrong_type":
            record["confidence"] = ["high", "low", "medium"][k % 3]
        elif kind == "bad_label":
            record["label"] = ["billng", "urgent", "spam", "Bug"][k % 4]
        elif kind == "confidence_gt_1":
            record["confidence"] = round(float(rng.uniform(1.01, 100)), 2)
        else:
            # A re-submitted annotation: an earlier clean row's item and annotator, new label.
            j = int(rng.integers(0, i))
            while is_bad[j]:
                j = int(rng.integers(0, i))
            source = records[j]
            record.update(
                id=source["id"],
                annotator=source["annotator"],
                text=source["text"],
                label=LABELS[(LABELS.index(source["label"]) + 1) % len(LABELS)],
            )
    path = folder / f"annotated_text_{n}.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for i, record in enumerate(records):
            handle.write(lines.get(i) or json.dumps(record, ensure_ascii=False))
            handle.write("\n")
    return path, counts


def generate_worker(args: argparse.Namespace) -> None:
    """Generate one data file (in a subprocess, so the parent never holds the rows)."""
    path, bad = generate(int(args.rows), args.seed, Path(args.out))
    emit({"path": str(path), "bad": bad})


def write_config(data: Path) -> Path:
    """Write the dataset config (YAML) for ``data``: columns, key, text column and suites."""
    columns = [
        ("id", "string", MAX_LENGTH["id"]),
        ("text", "string", MAX_LENGTH["text"]),
        ("label", "string", MAX_LENGTH["label"]),
        ("annotator", "string", MAX_LENGTH["annotator"]),
        ("confidence", "float", None),
        ("created_at", "datetime", None),
    ]
    lines = [
        "name: annotated_text",
        f"source: {{kind: file, path: {data.name}, format: jsonl}}",
        "columns:",
        *(
            f"  - {{name: {name}, type: {kind}"
            + (f", max_length: {cap}" if cap else "")
            + ", required: true}"
            for name, kind, cap in columns
        ),
        "key: id",
        "text_column: text",
        "suites: {raw: annotated_text.raw, preprocessed: annotated_text.preprocessed}",
    ]
    path = data.with_suffix(".yaml")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- workers


def peak_rss_bytes() -> int:
    """Return this process's peak RSS: VmHWM on Linux, else ru_maxrss.

    Linux carries ru_maxrss across fork and exec, so a worker started by a parent that once
    held 2 GB reports 2 GB before doing anything; VmHWM belongs to the running program only.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def emit(result: dict[str, Any]) -> None:
    print("RESULT " + json.dumps(result), flush=True)


def pandas_worker(args: argparse.Namespace) -> None:
    """The baseline: parse, schema-check, validate and split with plain pandas; write Parquet."""
    import numpy as np
    import pandas as pd
    import pyarrow  # noqa: F401  (imported before the clock, as govflow's side is)

    baseline = peak_rss_bytes()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    phases: dict[str, float] = {}
    t0 = time.perf_counter()

    # 1. Parse line by line; broken lines and non-objects are quarantined with the raw text.
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    quarantine: list[dict[str, Any]] = []
    with open(args.data, "rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            text = raw.decode("utf-8", "backslashreplace").rstrip("\r\n")
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                quarantine.append(
                    {"source_row": line_no, "reasons": f"invalid_json: {exc.msg}", "raw": text}
                )
                continue
            if not isinstance(value, dict):
                quarantine.append({"source_row": line_no, "reasons": "not_an_object", "raw": text})
                continue
            records.append(value)
            rows.append(line_no)
    rows_in = len(records) + len(quarantine)
    parse_quarantined = len(quarantine)
    t1 = time.perf_counter()
    phases["parse"] = t1 - t0

    # 2. Schema: required, type, max length (same rules as the dataset config).
    table = pd.DataFrame.from_records(records)
    del records
    table.index = pd.Index(rows, name="source_row")
    reasons = pd.Series("", index=table.index, dtype=object)

    def flag(mask: pd.Series, why: str) -> None:
        if mask.any():
            reasons[mask] = reasons[mask] + why + ";"

    for name in REQUIRED:
        if name not in table.columns:
            table[name] = None
        flag(table[name].isna(), f"missing_required({name})")
    kinds = {name: table[name].map(type) for name in REQUIRED}
    clean: dict[str, pd.Series] = {}
    for name in ("id", "text", "label", "annotator"):
        values = table[name]
        present = values.notna()
        is_text = kinds[name].isin([str])
        flag(present & ~is_text, f"wrong_type({name})")
        lengths = values.where(is_text).str.len()
        flag(lengths > MAX_LENGTH[name], f"too_long({name})")
        clean[name] = values.where(is_text)
    conf = table["confidence"]
    numeric = kinds["confidence"].isin([int, float, str])
    number = pd.to_numeric(conf.where(numeric), errors="coerce").astype("float64")
    number = number.where(np.isfinite(number))
    flag(conf.notna() & number.isna(), "wrong_type(confidence)")
    clean["confidence"] = number
    stamp_text = table["created_at"].where(kinds["created_at"].isin([str]))
    stamp = pd.to_datetime(stamp_text.str.strip(), format="ISO8601", utc=True, errors="coerce")
    flag(table["created_at"].notna() & stamp.isna(), "wrong_type(created_at)")
    clean["created_at"] = stamp
    schema_bad = reasons != ""
    schema_rejects = pd.DataFrame(
        {
            "source_row": table.index[schema_bad],
            "reasons": reasons[schema_bad].str.rstrip(";").to_numpy(),
            "raw": [json.dumps(r, default=str) for r in table[schema_bad].to_dict("records")],
        }
    )
    frame = pd.DataFrame(clean)[~schema_bad]
    raw_created = stamp_text[~schema_bad]
    t2 = time.perf_counter()
    phases["schema"] = t2 - t1

    # 3. The raw suite's expectations, vectorized (critical ones fail the batch).
    why = pd.Series("", index=frame.index, dtype=object)
    critical: list[str] = []

    def expect(failing: pd.Series, label: str, severity: str) -> None:
        count = int(failing.sum())
        if count:
            why[failing] = why[failing] + label + ";"
            if severity == "critical":
                critical.append(f"{label} failed on {count} rows")

    assert set(frame.columns) == set(REQUIRED) and len(frame) >= 1
    expect(frame["id"].isna(), "not_null(id)", "critical")
    expect(frame.duplicated(["id", "annotator"], keep=False), "unique(id,annotator)", "critical")
    expect(frame["text"].isna(), "not_null(text)", "critical")
    lengths = frame["text"].str.len()
    expect(((lengths < 1) | (lengths > 2000)).fillna(False), "length(text)", "warning")
    expect(frame["label"].isna(), "not_null(label)", "warning")
    expect(frame["label"].notna() & ~frame["label"].isin(LABELS), "in_set(label)", "warning")
    expect(frame["annotator"].isna(), "not_null(annotator)", "warning")
    expect(frame["confidence"].isna(), "not_null(confidence)", "warning")
    outside = (frame["confidence"] < 0) | (frame["confidence"] > 1)
    expect(outside, "between(confidence)", "warning")
    expect(frame["created_at"].isna(), "not_null(created_at)", "warning")
    bad_stamp = raw_created.notna() & ~raw_created.str.match(CREATED_AT_RE).fillna(False)
    expect(bad_stamp, "regex(created_at)", "warning")
    failed = why != ""
    rate = float(failed.sum()) / len(frame)
    if rate > 0.05:
        critical.append(f"quarantine rate {rate:.1%} above 5.0%")
    suite_rejects = pd.DataFrame(
        {
            "source_row": frame.index[failed],
            "reasons": why[failed].str.rstrip(";").to_numpy(),
            "raw": [json.dumps(r, default=str) for r in frame[failed].to_dict("records")],
        }
    )
    passed = frame[~failed].reset_index()
    t3 = time.perf_counter()
    phases["expectations"] = t3 - t2

    # 4. Write the clean rows and the quarantine.
    passed.to_parquet(out / "clean.parquet", index=False)
    quarantined = pd.concat(
        [
            pd.DataFrame(quarantine).assign(stage="parse"),
            schema_rejects.assign(stage="schema"),
            suite_rejects.assign(stage="raw suite"),
        ],
        ignore_index=True,
    )
    quarantined.to_parquet(out / "quarantine.parquet", index=False)
    t4 = time.perf_counter()
    phases["write parquet"] = t4 - t3
    emit(
        {
            "side": "pandas",
            "wall": t4 - t0,
            "phases": phases,
            "rows_in": rows_in,
            "quarantined_at_acquisition": parse_quarantined + len(schema_rejects),
            "quarantined_by_suite": len(suite_rejects),
            "rows_passed": len(passed),
            "batch_failures": critical,
            "baseline_rss": baseline,
            "peak_rss": peak_rss_bytes(),
        }
    )


class Probes:
    """Record (name, start, end) of wrapped calls, in epoch seconds, from any thread."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float, float]] = []

    def wrap(self, module: Any, attribute: str, name: str | None = None) -> None:
        original = getattr(module, attribute)
        calls = self.calls

        def probe(*args: Any, **kwargs: Any) -> Any:
            start = time.time()
            try:
                return original(*args, **kwargs)
            finally:
                calls.append((name or attribute, start, time.time()))

        setattr(module, attribute, probe)


def install_probes() -> Probes:
    """Wrap functions the ingest flow and its tasks look up at call time."""
    import flows.checkpoint
    import govflow.ledger.datasets
    import govflow.ledger.quarantine
    import govflow.ledger.validations
    import govflow.records
    import govflow.review.gate
    import govflow.snapshots.encode
    import govflow.sources.acquire
    import govflow.sources.config
    import govflow.validation.batch
    import govflow.validation.suites
    import tasks.validation

    probes = Probes()
    probes.wrap(govflow.sources.config, "load_dataset_config")
    probes.wrap(govflow.validation.suites, "suite_for")
    probes.wrap(govflow.validation.batch, "decide_batch")
    probes.wrap(govflow.validation.batch, "validation_failure_request")
    probes.wrap(govflow.records, "frame_for_validation")
    probes.wrap(govflow.review.gate, "request_review")
    probes.wrap(tasks.validation, "split_suite")
    probes.wrap(tasks.validation, "merge_outcomes")
    # Inside task runs (not part of the time buckets; they split the tasks' own time).
    probes.wrap(tasks.validation, "validate_frame")
    probes.wrap(govflow.sources.acquire, "_check_chunk")
    probes.wrap(govflow.snapshots.encode, "encode_frame")
    probes.wrap(govflow.ledger.datasets, "register_dataset_version")
    probes.wrap(govflow.ledger.datasets, "write_rows")
    probes.wrap(govflow.ledger.quarantine, "record_source_quarantine")
    probes.wrap(govflow.ledger.validations, "record_validation")
    # The checkpoint step imports validate_in_chunks once; the probes above are looked up
    # at call time inside it.
    assert flows.checkpoint.validate_in_chunks is tasks.validation.validate_in_chunks
    return probes


class RssSampler(threading.Thread):
    """Sample this process's RSS every 50 ms (to tell during which step the peak came)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.samples: list[tuple[float, int]] = []
        self.page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    def run(self) -> None:
        try:
            with open("/proc/self/statm", encoding="ascii") as statm:
                while not self.stop.wait(0.05):
                    statm.seek(0)
                    pages = int(statm.read().split()[1])
                    self.samples.append((time.time(), pages * self.page))
        except OSError:
            pass  # not Linux: no timeline, the peak itself still comes from ru_maxrss


def drain_prefect_clients() -> None:
    """Send queued logs and events while the server is up (else exit waits ~1 min)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    EventsWorker.drain_all(timeout=10)


def epoch(stamp: str | None) -> float | None:
    if not stamp:
        return None
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def govflow_worker(args: argparse.Namespace) -> None:
    """Run the ingest flow in-process; report its wall time, task runs and probes."""
    t_import = time.perf_counter()
    import great_expectations  # noqa: F401  (imported lazily by the flow: seconds)
    from prefect.settings import PREFECT_API_URL

    from flows.ingest import IngestParams, ingest
    from govflow.prefect_api import PrefectAPI

    import_s = time.perf_counter() - t_import
    assert PREFECT_API_URL.value() == os.environ["PREFECT_API_URL"]
    probes = install_probes()
    baseline = peak_rss_bytes()
    params = IngestParams(config_path=args.config, data_docs=False)
    error = None
    rss = RssSampler()
    rss.start()
    start = time.time()
    state = ingest.with_options(flow_run_name=args.run_name)(params, return_state=True)
    end = time.time()
    rss.stop.set()
    rss.join()
    result: dict[str, Any] = {}
    try:
        result = state.result().model_dump()
    except BaseException:
        error = traceback.format_exc()
    peak = peak_rss_bytes()
    drain_prefect_clients()
    flow_run_id = str(state.state_details.flow_run_id)
    with PrefectAPI() as api:
        task_runs: list[dict[str, Any]] = []
        while True:
            page = api.post_json(
                "/task_runs/filter",
                {
                    "flow_runs": {"id": {"any_": [flow_run_id]}},
                    "limit": 200,
                    "offset": len(task_runs),
                },
            )
            task_runs += page
            if len(page) < 200:
                break
        run = api.flow_run(flow_run_id)
        states = api.get_json(f"/flow_run_states/?flow_run_id={flow_run_id}")
    emit(
        {
            "side": "govflow",
            "flow_run_id": flow_run_id,
            "state": state.type.value,
            "error": error,
            "call_start": start,
            "call_end": end,
            "flow_start": epoch(run.get("start_time")),
            "flow_end": epoch(run.get("end_time")),
            "states": [(s["type"], epoch(s["timestamp"])) for s in states],
            "tasks": [
                {
                    "name": t["name"].rsplit("-", 1)[0],
                    "state": (t.get("state") or {}).get("type"),
                    "start": epoch(t.get("start_time")),
                    "end": epoch(t.get("end_time")),
                }
                for t in task_runs
            ],
            "probes": probes.calls,
            "rss": rss.samples,
            "result": result,
            "import_s": import_s,
            "baseline_rss": baseline,
            "peak_rss": peak,
        }
    )


def preprocess_worker(args: argparse.Namespace) -> None:
    """Time the preprocess flow's steps without Prefect (its suite is missing, see above)."""
    from govflow.domain import Stage
    from govflow.preprocess.batch import preprocess_batch
    from govflow.sources.config import load_dataset_config
    from tasks.preprocess import load_version
    from tasks.validation import register_frame_version

    config = load_dataset_config(args.config)
    baseline = peak_rss_bytes()
    t0 = time.perf_counter()
    frame = load_version.fn(args.version)
    t1 = time.perf_counter()
    batch = preprocess_batch(
        frame, text_column=config.text_column or "text", near_dup_threshold=0.8
    )
    t2 = time.perf_counter()
    version_id, _ = register_frame_version.fn(
        batch.frame,
        dataset=config.name,
        stage=Stage.PREPROCESSED,
        parent_id=args.version,
        steps=batch.steps,
    )
    t3 = time.perf_counter()
    steps = {step["step"]: step for step in batch.steps}
    emit(
        {
            "side": "preprocess",
            "rows_in": len(frame),
            "rows_out": len(batch.frame),
            "load_version": t1 - t0,
            "preprocess_batch": t2 - t1,
            "register_preprocessed": t3 - t2,
            "version_id": version_id,
            "exact_duplicates_removed": batch.exact_duplicates_removed,
            "near_duplicates_marked": int(steps.get("near_duplicates", {}).get("marked", 0)),
            "redactions": {
                k: int(v)
                for k, v in steps.get("redact_pii", {}).items()
                if k in ("emails", "phones", "cards")
            },
            "baseline_rss": baseline,
            "peak_rss": peak_rss_bytes(),
        }
    )


# --------------------------------------------------------------------------- analysis


def attribute(run: dict[str, Any]) -> dict[str, Any]:
    """Split the flow's wall time into buckets (tasks > gate > flow body > orchestration)."""
    lo, hi = run["call_start"], run["call_end"]
    intervals: list[tuple[float, float, str, int, str]] = []
    for task in run["tasks"]:
        if task["start"] is not None and task["end"] is not None:
            stage = STAGE_OF_TASK.get(task["name"], "other tasks")
            intervals.append((task["start"], task["end"], stage, 3, task["name"]))
    for name, start, end in run["probes"]:
        if name == "request_review":
            intervals.append((start, end, "review gate", 2, name))
        elif name not in IN_TASKS:
            intervals.append((start, end, "flow body", 1, name))
    clipped = [
        (max(s, lo), min(e, hi), c, p, n) for s, e, c, p, n in intervals if e > lo and s < hi
    ]
    edges = sorted({lo, hi, *(i[0] for i in clipped), *(i[1] for i in clipped)})
    buckets: dict[str, float] = {}
    # Orchestration time, named after what ran next (or "return" at the end of the call).
    gaps: dict[str, float] = {}
    for a, b in itertools.pairwise(edges):
        covering = [(p, c) for s, e, c, p, _ in clipped if s <= a and e >= b]
        bucket = max(covering)[1] if covering else "prefect orchestration"
        buckets[bucket] = buckets.get(bucket, 0.0) + (b - a)
        if not covering:
            after = [(s, n) for s, _, _, _, n in clipped if s >= b]
            label = f"before {min(after)[1]}" if after else "after the last task"
            gaps[label] = gaps.get(label, 0.0) + (b - a)
    gate = buckets.pop("review gate", 0.0)
    per_task: dict[str, float] = {}
    for task in run["tasks"]:
        if task["start"] is not None and task["end"] is not None:
            per_task[task["name"]] = per_task.get(task["name"], 0.0) + task["end"] - task["start"]
    # How much each step raised the running maximum of the sampled RSS (step: as for time).
    rss_by_step: dict[str, int] = {}
    samples = run.get("rss") or []
    highest = samples[0][1] if samples else 0
    for when, value in samples:
        if value > highest:
            covering = [(p, n) for s, e, _, p, n in clipped if s <= when <= e]
            step = max(covering)[1] if covering else "orchestration"
            rss_by_step[step] = rss_by_step.get(step, 0) + value - highest
            highest = value
    wall = hi - lo
    task_sum = sum(t["end"] - t["start"] for t in run["tasks"] if t["start"] and t["end"])
    validate_sum = sum(
        t["end"] - t["start"]
        for t in run["tasks"]
        if t["name"] == "validate-chunk" and t["start"] and t["end"]
    )
    ge_sum = sum(e - s for n, s, e in run["probes"] if n == "validate_frame")
    body = {}
    for name, start, end in run["probes"]:
        if name != "request_review" and name not in IN_TASKS:
            body[name] = body.get(name, 0.0) + (end - start)
    # Orchestration before the flow body starts and after it ends (from the server's times).
    before = (run["flow_start"] - lo) if run["flow_start"] else None
    after = (hi - run["flow_end"]) if run["flow_end"] else None
    return {
        "wall": wall,
        "gate": gate,
        "effective": wall - gate,
        "buckets": {name: buckets.get(name, 0.0) for name in BUCKETS}
        | ({"other tasks": buckets["other tasks"]} if "other tasks" in buckets else {}),
        "task_sum": task_sum,
        "task_count": len(run["tasks"]),
        "validate_sum": validate_sum,
        "validate_chunks": sum(t["name"] == "validate-chunk" for t in run["tasks"]),
        "ge_sum": ge_sum,
        "body": body,
        "before": before,
        "after": after,
        "gaps": dict(sorted(gaps.items(), key=lambda item: -item[1])),
        "per_task": per_task,
        "in_tasks": {
            name: sum(e - s for n, s, e in run["probes"] if n == name) for name in sorted(IN_TASKS)
        },
        "rss_start": samples[0][1] if samples else 0,
        "rss_by_step": dict(sorted(rss_by_step.items(), key=lambda item: -item[1])),
    }


# --------------------------------------------------------------------------- parent


def run_worker(label: str, env: dict[str, str], **options: str) -> dict[str, Any]:
    """Run this script as ``--worker label`` with ``options``; return its RESULT line."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", label]
    for key, value in options.items():
        command += [f"--{key.replace('_', '-')}", value]
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        print(f"  {label} worker failed (exit {proc.returncode}):", file=sys.stderr)
        print(proc.stdout[-4000:], proc.stderr[-8000:], sep="\n", file=sys.stderr)
        raise SystemExit(1)
    return json.loads(lines[-1].removeprefix("RESULT "))


def prepare_ledger(url: str, folder: Path) -> Path:
    """Migrate a fresh ledger and register the reviewer who answers the gate."""
    from govflow.ledger.engine import Ledger
    from govflow.ledger.models import Role
    from govflow.ledger.people import add_person

    ledger = Ledger.open(url)
    with ledger.session() as session:
        _, token = add_person(
            session=session,
            person_id=REVIEWER,
            display_name="Benchmark reviewer",
            role=Role.REVIEWER,
            actor="benchmark",
        )
    ledger.dispose()
    path = folder / f"{REVIEWER}.token"
    path.write_text(token + "\n")
    return path


class GateAnswerer(threading.Thread):
    """Answer every gate the named flow run opens with `govflow review decide`."""

    def __init__(self, run_name: str, token_file: Path, env: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.run_name, self.token_file, self.env = run_name, token_file, env
        self.stop = threading.Event()
        self.answers: list[str] = []
        self.errors: list[str] = []

    def run(self) -> None:
        from govflow.prefect_api import PrefectAPI

        answered: set[str] = set()
        run_id = None
        with PrefectAPI() as api:
            while not self.stop.wait(0.25):
                try:
                    if run_id is None:
                        runs = api.post_json(
                            "/flow_runs/filter", {"flow_runs": {"name": {"any_": [self.run_name]}}}
                        )
                        run_id = runs[0]["id"] if runs else None
                        continue
                    state = api.flow_run(run_id).get("state") or {}
                    if state.get("type") != "PAUSED" or state.get("id") in answered:
                        continue
                    answered.add(state["id"])
                    command = [
                        *(sys.executable, "-m", "govflow.cli.main", "review", "decide", run_id),
                        *("--reviewer", REVIEWER, "--token-file", str(self.token_file)),
                        *("--all", "continue_clean", "--note", "benchmark: go on, clean rows"),
                    ]
                    proc = subprocess.run(
                        command,
                        env=self.env,
                        capture_output=True,
                        text=True,
                        timeout=300,
                    )
                    text = (proc.stdout + proc.stderr).strip()
                    (self.answers if proc.returncode == 0 else self.errors).append(text)
                except Exception as exc:  # reported by the parent
                    self.errors.append(repr(exc))


def fmt_gb(value: float) -> str:
    return f"{value / GB:.2f} GB"


def report(n: int, bad: dict[str, int], pandas: dict, gov: dict, pre: dict | None) -> dict:
    att = attribute(gov)
    eff = att["effective"]
    wall_pd = pandas["wall"]
    rows_in = pandas["rows_in"]
    ledger_s = att["buckets"]["ledger writes"]
    overhead = att["buckets"]["prefect orchestration"]
    result = gov["result"]
    print(
        f"\n=== {n:,} rows ({sum(bad.values()):,} bad: "
        + ", ".join(f"{k} {v}" for k, v in bad.items())
        + ")"
    )
    print(
        f"  pandas   {wall_pd:7.2f} s  {rows_in / wall_pd:>9,.0f} rows/s  peak RSS "
        f"{fmt_gb(pandas['peak_rss'])} (after imports {fmt_gb(pandas['baseline_rss'])})  "
        + ", ".join(f"{k} {v:.2f} s" for k, v in pandas["phases"].items())
    )
    print(
        f"  govflow  {eff:7.2f} s  {rows_in / eff:>9,.0f} rows/s  peak RSS "
        f"{fmt_gb(gov['peak_rss'])} (after imports {fmt_gb(gov['baseline_rss'])}; "
        f"imports took {gov['import_s']:.1f} s, not timed)"
    )
    print(
        f"  govflow/pandas = {eff / wall_pd:.2f}x; without ledger writes "
        f"{(eff - ledger_s) / wall_pd:.2f}x (the ledger is govflow's governance cost)"
    )
    print(
        f"  counts   pandas: {pandas['quarantined_at_acquisition']} quarantined at parse/schema,"
        f" {pandas['quarantined_by_suite']} by the suite, {pandas['rows_passed']:,} passed"
        f" | govflow: {result.get('rows_quarantined_at_acquisition')} at acquisition, "
        f"{result.get('rows_quarantined_by_suite')} by the suite, "
        f"{result.get('rows_passed', 0):,} passed"
    )
    print(f"  pandas batch verdict: {'; '.join(pandas['batch_failures']) or 'passed'}")
    print(
        f"  govflow breakdown of W' = {eff:.2f} s (flow call {att['wall']:.2f} s minus review "
        f"gate {att['gate']:.2f} s, answered by `govflow review decide`):"
    )
    for name, seconds in att["buckets"].items():
        print(f"    {name:<24} {seconds:7.2f} s  {seconds / eff:6.1%}")
    print(
        f"    (task runs: {att['task_count']}, sum of their durations {att['task_sum']:.2f} s; "
        f"validate-chunk x{att['validate_chunks']}: {att['validate_sum']:.2f} s summed, of "
        f"which GE validate_frame {att['ge_sum']:.2f} s, Prefect in-task "
        f"{att['validate_sum'] - att['ge_sum']:.2f} s)"
    )
    print(
        "    (flow body: "
        + ", ".join(f"{k} {v:.2f} s" for k, v in sorted(att["body"].items(), key=lambda x: -x[1]))
        + ")"
    )
    if att["before"] is not None and att["after"] is not None:
        print(
            f"    (orchestration: call -> flow Running {att['before']:.2f} s, flow Completed -> "
            f"return {att['after']:.2f} s, between/around tasks "
            f"{overhead - att['before'] - att['after']:.2f} s)"
        )
    print(
        "    (task run seconds, summed per task: "
        + ", ".join(
            f"{k} {v:.2f} s" for k, v in sorted(att["per_task"].items(), key=lambda x: -x[1])
        )
        + ")"
    )
    inside = att["in_tasks"]
    ledger_task_s = sum(att["per_task"].get(name, 0.0) for name in LEDGER_TASKS)
    probed = (
        inside["encode_frame"]
        + inside["register_dataset_version"]
        + inside["record_source_quarantine"]
        + inside["record_validation"]
    )
    print(
        f"    (inside the ledger tasks, {ledger_task_s:.2f} s: encode_frame (canonical JSON "
        f"+ sha256 + Arrow columns) {inside['encode_frame']:.2f} s, write_rows (Parquet + "
        f"sha256 + publish) {inside['write_rows']:.2f} s, rest of register_dataset_version "
        f"{inside['register_dataset_version'] - inside['write_rows']:.2f} s, "
        f"record_source_quarantine {inside['record_source_quarantine']:.2f} s, record_validation "
        f"{inside['record_validation']:.2f} s, commit and the rest {ledger_task_s - probed:.2f} s)"
    )
    acquire_s = att["per_task"].get("acquire-source", 0.0)
    print(
        f"    (inside acquire-source, {acquire_s:.2f} s: schema checks (_check_chunk) "
        f"{inside['_check_chunk']:.2f} s; reading, json.loads and concat "
        f"{acquire_s - inside['_check_chunk']:.2f} s)"
    )
    print(
        f"    (RSS sampled every 50 ms: {fmt_gb(att['rss_start'])} at the call, raised to the "
        "peak by: "
        + ", ".join(f"{k} +{fmt_gb(v)}" for k, v in list(att["rss_by_step"].items())[:5])
        + ")"
    )
    print(
        "    (orchestration by what ran next: "
        + ", ".join(f"{k} {v:.2f} s" for k, v in list(att["gaps"].items())[:6])
        + ")"
    )
    if pre is not None:
        total = pre["load_version"] + pre["preprocess_batch"] + pre["register_preprocessed"]
        print(
            f"  preprocess (no Prefect, {pre['rows_in']:,} rows -> {pre['rows_out']:,}): "
            f"load-version {pre['load_version']:.2f} s, preprocess_batch "
            f"{pre['preprocess_batch']:.2f} s, register-preprocessed "
            f"{pre['register_preprocessed']:.2f} s, total {total:.2f} s "
            f"({pre['rows_in'] / total:,.0f} rows/s), peak RSS {fmt_gb(pre['peak_rss'])}; "
            f"{pre['exact_duplicates_removed']} exact duplicates removed, "
            f"{pre['near_duplicates_marked']} near-duplicates marked, redactions "
            f"{pre['redactions']}"
        )
    return {
        "eff": eff,
        "ratio": eff / wall_pd,
        "overhead": overhead / eff,
        "peak": gov["peak_rss"],
        "rows": rows_in,
        "pandas": wall_pd,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="100000,1000000", help="comma-separated sizes")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-preprocess", action="store_true", help="skip the preprocess step")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--worker", choices=["generate", "pandas", "govflow", "preprocess"], help="internal"
    )
    parser.add_argument("--data", help="internal: the JSONL file")
    parser.add_argument("--config", help="internal: the dataset config")
    parser.add_argument("--out", help="internal: pandas output folder")
    parser.add_argument("--run-name", help="internal: the flow run's name")
    parser.add_argument("--version", help="internal: the validated version to pre-process")
    args = parser.parse_args()
    if args.worker:
        workers = {
            "generate": generate_worker,
            "pandas": pandas_worker,
            "govflow": govflow_worker,
            "preprocess": preprocess_worker,
        }
        workers[args.worker](args)
        return

    from tests.support.prefect_server import PrefectServer, free_port, remove

    sizes = [int(s) for s in args.rows.split(",")]
    work = Path(tempfile.mkdtemp(prefix="govflow-ingest-bench-"))
    port = free_port()
    base_env = os.environ | {
        "PREFECT_HOME": str(work / "prefect"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "GOVFLOW_HOME": str(work / "govflow"),
        "GOVFLOW_ACTOR": "benchmark",
        "GOVFLOW_REVIEW_POLL_INTERVAL": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    for name in ("PREFECT_API_AUTH_STRING", "PREFECT_UI_URL", "GOVFLOW_REVIEW_WEBHOOK_URL"):
        base_env.pop(name, None)
        os.environ.pop(name, None)
    os.environ.update(base_env)  # for this process's gate answerer (no Prefect import here)
    print(f"ingest_validate: sizes {sizes}, seed {args.seed}, workers in subprocesses")

    datasets = {}
    for n in sizes:
        started = time.perf_counter()
        made = run_worker("generate", base_env, rows=str(n), seed=str(args.seed + n), out=str(work))
        path = Path(made["path"])
        datasets[n] = (path, write_config(path), made["bad"])
        size_mb = path.stat().st_size / 1e6
        print(f"generated {n:,} rows ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f} s")

    server = PrefectServer(port, work / "prefect").start()
    summaries: dict[int, dict] = {}
    try:
        for n in sizes:
            path, config, bad = datasets[n]
            env = base_env | {"GOVFLOW_DATABASE_URL": f"sqlite:///{work / f'ledger-{n}.db'}"}
            os.environ.update(env)
            pandas = run_worker(
                "pandas", env, rows=str(n), data=str(path), out=str(work / f"pandas-{n}")
            )
            token = prepare_ledger(env["GOVFLOW_DATABASE_URL"], work)
            name = f"bench-ingest-{n}-{uuid.uuid4().hex[:8]}"
            answerer = GateAnswerer(name, token, env)
            answerer.start()
            try:
                gov = run_worker(
                    "govflow", env, rows=str(n), data=str(path), config=str(config), run_name=name
                )
            finally:
                answerer.stop.set()
                answerer.join(timeout=30)
            if gov["error"]:
                print(f"\n{n:,} rows: the ingest flow ended {gov['state']}:\n{gov['error']}")
                if answerer.errors:
                    print("gate answers that failed:\n" + "\n".join(answerer.errors))
                raise SystemExit(1)
            pre = None
            if not args.no_preprocess:
                version = gov["result"]["validated_version_id"]
                pre = run_worker(
                    "preprocess", env, rows=str(n), config=str(config), version=version
                )
            summaries[n] = report(n, bad, pandas, gov, pre)
            print(f"  gate answers: {len(answerer.answers)} ({'; '.join(answerer.answers)})")
    finally:
        server.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            remove(work)

    print("\n=== targets")
    largest, smallest = max(sizes), min(sizes)
    big = summaries[largest]
    ok = {True: "met", False: "MISSED"}
    print(
        f"  govflow/pandas at {largest:,} rows: {big['ratio']:.2f}x (target <= 2x: "
        f"{ok[big['ratio'] <= 2]})"
    )
    print(
        f"  Prefect orchestration at {largest:,} rows: {big['overhead']:.1%} of W' "
        f"(target < 5%: {ok[big['overhead'] < 0.05]})"
    )
    if largest != smallest:
        small = summaries[smallest]
        per_row = (big["eff"] / big["rows"]) / (small["eff"] / small["rows"])
        per_row_pd = (big["pandas"] / big["rows"]) / (small["pandas"] / small["rows"])
        print(
            f"  per-row cost {largest:,} vs {smallest:,}: govflow {per_row:.2f}x (target "
            f"<= 1.3x: {ok[per_row <= 1.3]}), pandas {per_row_pd:.2f}x"
        )
    print(
        f"  govflow peak RSS at {largest:,} rows: {fmt_gb(big['peak'])} (target < 2 GB: "
        f"{ok[big['peak'] < 2 * GB]})"
    )
    label = "1M" if largest == 1_000_000 else f"{largest:,}"
    print(
        f"ingest_validate: govflow/pandas at {label} rows = {big['ratio']:.2f}x, "
        f"prefect overhead = {big['overhead']:.1%}, peak RSS = {big['peak'] / GB:.2f} GB"
    )


if __name__ == "__main__":
    main()
