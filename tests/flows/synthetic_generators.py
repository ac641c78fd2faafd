"""A generator and a label checker the synthesize tests load by ``module:function``.

``planted`` wraps the embedded template generator and appends three rows every screen must
catch: an exact copy of an organic seed, a near copy of an evaluation (test split) item,
and a row with a card number.
"""

from __future__ import annotations

from govflow.hashing import sha256_text
from govflow.synthetic.generators.template import TemplateGenerator
from govflow.synthetic.rows import SeedItem
from tests.support.labeled import demo_labeled_frame

_frame = demo_labeled_frame()
EVALUATION_TEXT = _frame.loc[_frame.split == "test", "text"].iloc[0]
# One character changed: Jaccard on character 5-grams stays near 0.9.
EVALUATION_NEAR_COPY = EVALUATION_TEXT[:-1] + "!"
PII_ROW = "Please refund the charge on card 4111 1111 1111 1111, it was billed twice."


def planted(*, label: str, n: int, seeds: list[str], seed: int) -> list[str]:
    items = [SeedItem(sha256_text(text), text, label) for text in seeds]
    made = TemplateGenerator(config_hash="planted").generate(label, n - 3, items, seed)
    return [row.text for row in made.rows] + [seeds[0], EVALUATION_NEAR_COPY, PII_ROW]


def checker(texts: list[str]) -> list[str]:
    """Say ``account`` for texts that mention an accounting team, else ``billing``."""
    return ["account" if "accounting" in text.lower() else "billing" for text in texts]
