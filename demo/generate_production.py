"""Generate the demo's production stream: two batches of support tickets for the monitor.

DEMO DATA: fictional tickets from the same templates as ``demo/generate_sample.py``, seeded,
so ``python -m demo.generate_production`` rewrites identical files.

- ``production/batch-1.jsonl``: like the training sample: the same intents in about the
  same shares, the same channels and wording.
- ``production/batch-2.jsonl``: drifted. A new product, the "Zephyr" add-on, appears in
  about half of the tickets, and billing questions (mostly about Zephyr charges) make up
  about 60% of them.

Each line is ``{"record_id", "text", "channel", "received_at", "label"}``. There are no
predictions: the ``score`` flow adds ``predicted_label``, ``confidence``, ``model_version``
and ``scored_at``. ``label`` is the intent a support agent confirmed later, known for about
a third of the tickets and null for the rest.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from demo.generate_sample import CHANNELS, MIXED, TEMPLATES, _fill, _text

SEED = 20261202
COUNT = 150
LABELED_SHARE = 1 / 3
OUT = Path(__file__).parent / "data" / "production"
INTENTS = sorted(TEMPLATES)
BATCH_2_SHARES = {"billing": 0.6, "bug": 0.1, "account": 0.1, "feature_request": 0.1, "other": 0.1}
ZEPHYR_SHARE = 0.55

# What customers write once the Zephyr add-on ships.
ZEPHYR = {
    "billing": [
        "I was charged for the Zephyr add-on although I never ordered it.",
        "The Zephyr upgrade doubled my {plan} invoice in {month}.",
        "Please refund the Zephyr charge from {month}.",
        "How much does Zephyr cost on the {plan} plan?",
        "Why is Zephyr billed per seat on our {plan} plan?",
        "Can I get an invoice for the Zephyr add-on alone?",
    ],
    "bug": [
        "Zephyr sync stops halfway on {device}.",
        "Since I enabled Zephyr, {area} loads forever.",
        "Zephyr shows an error 500 when I open {area}.",
    ],
    "account": [
        "How do I give {name} access to Zephyr?",
        "Zephyr logs me out of my account every hour.",
    ],
    "feature_request": [
        "Could Zephyr export {area} as {fmt}?",
        "Please let Zephyr work offline on {device}.",
    ],
    "other": [
        "Is Zephyr available in {city}?",
        "Who can demo Zephyr for our team in {city}?",
    ],
}


def generate_batch(
    number: int, *, drifted: bool, seed: int = SEED, count: int = COUNT
) -> list[dict[str, str | None]]:
    """Return one batch of production records, drifted or like the training sample."""
    rng = random.Random(seed + number)
    start = datetime(2026, 12, number, 8, tzinfo=UTC)
    intents = list(BATCH_2_SHARES) if drifted else INTENTS
    weights = list(BATCH_2_SHARES.values()) if drifted else None
    records: list[dict[str, str | None]] = []
    for index in range(1, count + 1):
        if not drifted and rng.random() < 0.1:
            template, intent, _ = rng.choice(MIXED)
        else:
            intent = rng.choices(intents, weights=weights)[0]
            pool = ZEPHYR if drifted and rng.random() < ZEPHYR_SHARE else TEMPLATES
            template = rng.choice(pool[intent])
        received = start + timedelta(seconds=rng.randrange(0, 10 * 3600))
        records.append(
            {
                "record_id": f"P{number}-{index:04d}",
                "text": _text(rng, _fill(rng, template), intent, with_pii=True),
                "channel": rng.choice(CHANNELS),
                "received_at": received.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "label": intent if rng.random() < LABELED_SHARE else None,
            }
        )
    return records


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for number, drifted in ((1, False), (2, True)):
        records = generate_batch(number, drifted=drifted)
        path = OUT / f"batch-{number}.jsonl"
        path.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
        )
        labeled = sum(1 for r in records if r["label"] is not None)
        zephyr = sum(1 for r in records if "Zephyr" in str(r["text"]))
        print(
            f"DEMO DATA: wrote {len(records)} production records ({labeled} labeled, "
            f"{zephyr} mentioning Zephyr) to {path}"
        )


if __name__ == "__main__":
    main()
