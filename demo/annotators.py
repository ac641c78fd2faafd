"""Simulated annotators for the demo: DEMO DATA, no real person labelled anything.

The quickstart has no annotators at hand, so this script plays them. It reads an annotation
round's assignments from the ledger (the same JSONL that ``govflow annotations export``
gives a real annotator) and writes one import line per assignment, ``{"round", "item",
"annotator", "label"}``, ready for ``govflow annotations import FILE --round ROUND``:

    .venv/bin/python -m demo.annotators --round ar-1234 --out labels.jsonl

Each label is drawn from the hidden ground truth of the demo sample
(``demo/data/support_tickets.truth.jsonl``, written by ``demo/generate_sample.py``) through
a quality profile per annotator (``PROFILES``):

- ``ann-1`` to ``ann-4`` are good (right 89-95% of the time); their mistakes are mostly
  plausible confusions (``CONFUSIONS``: billing for account, bug for feature_request, ...);
- ``ann-5`` is sloppy (right about 35% of the time, otherwise any label), so the gold items
  mixed into the round show it and the pipeline flags them for calibration;
- on tickets that mix two intents, even good annotators split between the two.

Every answer is drawn from a generator seeded with ``SEED``, the annotator and the ticket,
so the same assignment always gets the same label, whatever else is in the round. With only
18 gold items, chance alone can push a good annotator below the pipeline's 0.7 calibration
threshold (seed 20261127 does that to ann-3, leaving many items with a single counted label);
``SEED`` is one under which the gold items show every profile as intended. Every
assignment is answered, so the round completes. Annotators without a profile (people you
added yourself) answer as a good annotator would (``DEFAULT_PROFILE``).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from demo.generate_sample import LABELS, TRUTH

SEED = 20261131

# For each intent, the labels a careful person confuses it with, most likely first.
CONFUSIONS = {
    "billing": ("account", "other"),
    "bug": ("feature_request", "account"),
    "account": ("billing", "bug"),
    "feature_request": ("bug", "other"),
    "other": ("feature_request", "billing"),
}


@dataclass(frozen=True)
class Profile:
    """How an annotator answers: how often right, and how their mistakes look."""

    accuracy: float
    plausible_errors: float  # share of mistakes that are a plausible confusion
    ambiguous_first: float  # on a mixed ticket: how often the guideline's intent wins


PROFILES = {
    "ann-1": Profile(accuracy=0.95, plausible_errors=0.8, ambiguous_first=0.55),
    "ann-2": Profile(accuracy=0.93, plausible_errors=0.8, ambiguous_first=0.5),
    "ann-3": Profile(accuracy=0.91, plausible_errors=0.8, ambiguous_first=0.5),
    "ann-4": Profile(accuracy=0.89, plausible_errors=0.8, ambiguous_first=0.45),
    "ann-5": Profile(accuracy=0.35, plausible_errors=0.0, ambiguous_first=0.5),
}
DEFAULT_PROFILE = Profile(accuracy=0.88, plausible_errors=0.8, ambiguous_first=0.5)


class UnknownTicket(Exception):
    """An assignment names a ticket the demo's ground truth does not know."""


def read_truth(path: Path = TRUTH) -> dict[str, dict[str, Any]]:
    """Return the hidden intents of the demo sample by ticket id."""
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line)
    return {row["ticket_id"]: row for row in rows}


def answer(annotator: str, ticket: dict[str, Any], *, seed: int = SEED) -> str:
    """Return the label ``annotator`` gives the ticket whose hidden truth is ``ticket``."""
    profile = PROFILES.get(annotator, DEFAULT_PROFILE)
    rng = random.Random(f"{seed}|{annotator}|{ticket['ticket_id']}")
    intent, other = ticket["intent"], ticket.get("ambiguous_with")
    if rng.random() < profile.accuracy:
        if other and rng.random() >= profile.ambiguous_first:
            return str(other)
        return str(intent)
    if rng.random() < profile.plausible_errors:
        return rng.choice(CONFUSIONS[intent])
    return rng.choice([label for label in LABELS if label != intent])


def simulate(
    assignments: Iterable[dict[str, Any]], truth: dict[str, dict[str, Any]], *, seed: int = SEED
) -> list[dict[str, str]]:
    """Answer every exported assignment (``{"round", "item", "annotator", "data"}``)."""
    answers = []
    for row in assignments:
        ticket_id = row["data"].get("ticket_id")
        if ticket_id not in truth:
            raise UnknownTicket(
                f"ticket {ticket_id!r} (item {row['item'][:12]}) is not in the demo's ground "
                "truth: the simulated annotators only answer the bundled demo sample"
            )
        label = answer(row["annotator"], truth[ticket_id], seed=seed)
        answers.append(
            {
                "round": row["round"],
                "item": row["item"],
                "annotator": row["annotator"],
                "label": label,
            }
        )
    return answers


def read_assignments(round_id: str) -> list[dict[str, Any]]:
    """Export the round's assignments from the ledger (``GOVFLOW_HOME``/``_DATABASE_URL``)."""
    from govflow.ledger.annotations import export_assignments
    from govflow.ledger.engine import Ledger

    ledger = Ledger.open()
    try:
        with ledger.reader() as session:
            text = export_assignments(session=session, round_id=round_id, fmt="jsonl")
    finally:
        ledger.dispose()
    return [json.loads(line) for line in text.splitlines() if line]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo.annotators",
        description="DEMO DATA: answer an annotation round's assignments as simulated "
        "annotators, from the demo sample's hidden ground truth.",
    )
    parser.add_argument("--round", required=True, dest="round_id", help="The annotation round.")
    parser.add_argument("--out", required=True, type=Path, help="The JSONL file to write.")
    parser.add_argument("--truth", type=Path, default=TRUTH, help="The hidden ground truth.")
    parser.add_argument("--seed", type=int, default=SEED, help="Seed of the simulation.")
    args = parser.parse_args(argv)

    from govflow.errors import GovflowError

    try:
        assignments = read_assignments(args.round_id)
        truth = read_truth(args.truth)
        answers = simulate(assignments, truth, seed=args.seed)
    except (GovflowError, UnknownTicket, OSError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(a) + "\n" for a in answers), encoding="utf-8")
    print(f"DEMO DATA: simulated annotators answered {len(answers)} assignments -> {args.out}")
    tickets = {row["item"]: row["data"]["ticket_id"] for row in assignments}
    given = Counter(a["annotator"] for a in answers)
    right = Counter(
        a["annotator"] for a in answers if a["label"] == truth[tickets[a["item"]]]["intent"]
    )
    for annotator in sorted(given):
        share = right[annotator] / given[annotator]
        print(f"  {annotator}: {given[annotator]} labels, {share:.0%} match the hidden truth")
    return 0


if __name__ == "__main__":
    sys.exit(main())
