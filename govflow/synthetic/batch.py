"""Make one synthetic batch from a labeled version and a plan, and screen it (no I/O).

``build_batch`` resolves the plan's targets against the organic class counts, asks the
generator for each class (seeds: the class's organic rows of the train split, then the
guideline's examples),
runs govflow's screening checks, and scores fidelity per class and the batch's diversity.
Its ``frame`` is what the synthetic checkpoint validates: the rows as stored plus one column
per row check, and the batch checks ``fidelity`` (on the rows of a class whose scores missed
the plan's thresholds) and ``diversity`` (on every row when the batch missed one), which the
suite holds critical: a batch that misses them goes to people, who may waive them. A batch
whose every row copies organic data is refused as a whole (``GenerationFailed``): there is
nothing to register and nobody to ask.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from govflow.errors import GenerationFailed
from govflow.hashing import sha256_text
from govflow.synthetic.checks import CHECK_COLUMNS, PiiSpans, ScreenResult, screen_batch
from govflow.synthetic.fidelity import ClassFidelity, Diversity, class_fidelity, diversity
from govflow.synthetic.generators import build_generator
from govflow.synthetic.nearcopy import ReferenceIndex
from govflow.synthetic.plan import SynthesisPlan, resolve_targets
from govflow.synthetic.report import BatchReport
from govflow.synthetic.rows import (
    RejectedRow,
    SyntheticRow,
    guideline_seeds,
    seeds_from_frame,
    synthetic_frame,
)

__all__ = ["BATCH_CHECK_COLUMNS", "SyntheticBatch", "batch_id_for", "build_batch"]

BATCH_CHECK_COLUMNS = ("fidelity", "diversity")


def batch_id_for(*, source_version_id: str, config_hash: str) -> str:
    """Return the batch's id: the same source version and plan settings, the same batch."""
    return "sb-" + sha256_text(f"{source_version_id}\n{config_hash}")[:24]


@dataclass(frozen=True, eq=False)
class SyntheticBatch:
    batch_id: str
    targets: dict[str, int]
    rows: list[SyntheticRow]
    rejected: list[RejectedRow]
    frame: pd.DataFrame  # stored columns + one column per check
    screen: ScreenResult
    fidelity: list[ClassFidelity]
    diversity: Diversity

    @property
    def stored_frame(self) -> pd.DataFrame:
        """The rows as registered (without the check columns)."""
        return self.frame.drop(columns=[*CHECK_COLUMNS, *BATCH_CHECK_COLUMNS])

    def report(self, spot_check: Mapping[str, Any] | None = None) -> BatchReport:
        return BatchReport(
            batch_id=self.batch_id,
            rows_requested=sum(self.targets.values()),
            rows_generated=len(self.rows),
            rows_rejected=dict(Counter(r.reason for r in self.rejected)),
            quarantined_by_check=self.screen.counts(),
            rows_passed=int((~self.screen.failed).sum()),
            fidelity=self.fidelity,
            diversity=self.diversity,
            spot_check=dict(spot_check or {}),
        )


def build_batch(
    *,
    plan: SynthesisPlan,
    source_version_id: str,
    organic: pd.DataFrame,
    organic_hashes: Sequence[str],
    label_set: list[str],
    guideline_examples: Sequence[Mapping[str, Any]] = (),
    evaluation_texts: Sequence[str] = (),
    evaluation_ids: Sequence[str] = (),
    text_column: str = "text",
) -> SyntheticBatch:
    """Generate, screen and score one batch; raise ``GenerationFailed`` if it is unusable."""
    counts = {str(k): int(v) for k, v in organic["label"].value_counts().items()}
    targets = resolve_targets(plan, counts, label_set=label_set)
    generator = build_generator(plan.generator, config_hash=plan.config_hash)
    batch_id = batch_id_for(source_version_id=source_version_id, config_hash=plan.config_hash)
    rows: list[SyntheticRow] = []
    rejected: list[RejectedRow] = []
    # Seeds come from the train split only: evaluation items must never feed a generator.
    is_train = (
        (organic["split"] == "train").to_numpy()
        if "split" in organic.columns
        else np.ones(len(organic), dtype=bool)
    )
    train = organic[is_train]
    train_hashes = [h for h, keep in zip(organic_hashes, is_train, strict=True) if keep]
    for label, n in targets.items():
        seeds = seeds_from_frame(train, train_hashes, label=label, text_column=text_column)
        seeds = seeds[: plan.max_seed_items] + guideline_seeds(guideline_examples, label=label)
        made = generator.generate(label, n, seeds, plan.seed)
        rows.extend(made.rows)
        rejected.extend(made.rejected)
    if not rows:
        reasons = Counter(r.reason for r in rejected).most_common(1)
        detail = f" (most often {reasons[0][0]!r})" if reasons else ""
        raise GenerationFailed(generator.name, f"made no usable row{detail}")
    texts = [r.text for r in rows]
    organic_texts = organic[text_column].fillna("").astype(str).tolist()
    screened = screen_batch(
        texts,
        organic=ReferenceIndex(organic_texts, threshold=plan.checks.near_copy_jaccard),
        organic_ids=list(organic_hashes),
        evaluation=ReferenceIndex(
            list(evaluation_texts), threshold=plan.checks.contamination_jaccard
        )
        if evaluation_texts
        else None,
        evaluation_ids=list(evaluation_ids),
        pii_spans=PiiSpans.from_texts(organic_texts, width=plan.checks.pii_span_words),
        thresholds=plan.checks,
    )
    copies = screened.checks["organic_copy"].notna().to_numpy()
    if copies.all():
        raise GenerationFailed(
            generator.name,
            f"every one of its {len(rows)} rows copies organic data "
            f"(Jaccard >= {plan.checks.near_copy_jaccard} on character 5-grams)",
        )
    passed = ~screened.failed
    fidelity = [
        class_fidelity(
            label,
            organic.loc[organic["label"] == label, text_column].astype(str).tolist(),
            [r.text for r, ok in zip(rows, passed, strict=True) if ok and r.label == label],
            plan.checks,
        )
        for label in targets
    ]
    scores = diversity(
        texts,
        near_duplicates=int(np.sum(screened.checks["batch_duplicate"].notna())),
        thresholds=plan.checks,
    )
    missed = {f.label: "; ".join(f.missed) for f in fidelity if f.missed}
    frame = pd.concat(
        [synthetic_frame(rows, batch_id=batch_id), screened.checks.reset_index(drop=True)], axis=1
    )
    frame["fidelity"] = pd.Series([missed.get(r.label) for r in rows], dtype=object)
    frame["diversity"] = pd.Series(
        ["; ".join(scores.missed) if scores.missed else None] * len(rows), dtype=object
    )
    return SyntheticBatch(
        batch_id=batch_id,
        targets=targets,
        rows=rows,
        rejected=rejected,
        frame=frame,
        screen=screened,
        fidelity=fidelity,
        diversity=scores,
    )
