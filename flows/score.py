"""Score: batch inference with the model behind ``production`` over raw production inputs.

In:  ``ScoreParams``: the inputs' dataset config (a file, HTTP or SQL source, read as
     ingestion reads it; ``path`` replaces a file source's path), the monitor config (its
     project and where records keep each field), and where to write the scored records.
Out: a JSONL file of the records with ``predicted_label``, ``confidence``, ``model_version``
     and ``scored_at`` (a model's error rows keep no label and no confidence); records that
     already carry a prediction are written as they are. The ``monitor`` flow reads such a
     file (and scores by itself whatever still lacks a prediction). No ledger writes: the
     batch is registered when it is monitored.
People: nobody.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.utilities.annotations import quote
from pydantic import BaseModel, Field

from flows.results import ScoreResult
from tasks.ingest import acquire_source
from tasks.monitoring import score_records


class ScoreParams(BaseModel):
    config_path: str = Field(description="The raw inputs' dataset config (YAML/TOML).")
    monitor_config: str = Field(description="The monitor config, e.g. monitoring/<project>.yaml.")
    output_path: str = Field(description="Where to write the scored records (JSONL).")
    path: str | None = Field(default=None, description="A file source's file to read instead.")
    scored_at: str | None = Field(
        default=None, description="The scoring time to stamp (default: when the run was created)."
    )


@flow(name="score", persist_result=True)
def score(params: ScoreParams) -> ScoreResult:
    """Score raw production inputs with the production model and write the records."""
    from flows.monitor import scoring_time
    from govflow.monitoring.config import load_monitor_config
    from govflow.records import frame_to_records
    from govflow.sources.config import load_dataset_config

    source = load_dataset_config(params.config_path)
    if params.path is not None:
        source = source.with_path(params.path)
    config = load_monitor_config(params.monitor_config)
    acquisition = acquire_source(source)
    scored, n_scored, model_version_id = score_records(
        quote(acquisition.frame), config, scored_at=params.scored_at or scoring_time()
    )
    write_jsonl(Path(params.output_path), frame_to_records(scored))
    return ScoreResult(
        rows=len(scored),
        n_scored=n_scored,
        rows_quarantined=len(acquisition.quarantined),
        model_version_id=model_version_id,
        output_path=params.output_path,
    )


def write_jsonl(path: Path, records: list[dict]) -> None:
    """Write records as canonical JSON lines (atomically: a reader never sees half a file)."""
    from govflow.hashing import canonical_json

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text("".join(canonical_json(r) + "\n" for r in records), encoding="utf-8")
    partial.replace(path)
