"""The embedded default generator: offline, seeded template and perturbation generation.

Each row starts from one seed item of the class (organic rows and the guideline's examples)
and applies controlled edits, recorded in its provenance:

- slot filling: numbers, amounts, months, weekdays and first names are replaced by other
  values of the same shape;
- recombination: a sentence of a second seed of the same class replaces one of the first;
- paraphrase: synonyms from a small table, the order of two sentences, another greeting
  and closing;
- adversarial variants (about one row in four): a typo, a casing change, or a distractor
  sentence that does not change the intent.

Randomness comes from ``random.Random`` seeded with a hash of the label and the seed, and
seeds are taken in item-hash order, so the output depends on neither the process
(``PYTHONHASHSEED``) nor the order the seeds were given in.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from govflow.errors import GenerationFailed
from govflow.hashing import sha256_text
from govflow.synthetic.rows import Generated, Provenance, SeedItem, SyntheticRow

__all__ = ["TEMPLATE_VERSION", "TemplateGenerator"]

TEMPLATE_VERSION = "2"

GREETINGS = ("Hi,", "Hello,", "Hi team,", "Hello support,", "Good morning,", "Hey there,")
CLOSINGS = ("Thanks.", "Thank you!", "Cheers.", "Best regards.", "Thanks in advance.", "Regards.")
NAMES = (
    "Priya", "Lena", "Jon", "Maria", "Ahmed", "Sofia", "Kenji", "Olga", "Tom", "Aisha",
    "Carlos", "Mei", "Noah", "Fatima", "Lucas", "Ines",
)  # fmt: skip
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SYNONYMS: dict[str, tuple[str, ...]] = {
    "charged": ("billed",),
    "invoice": ("bill", "receipt"),
    "invoices": ("bills", "receipts"),
    "refund": ("reimbursement", "money back"),
    "twice": ("two times", "double"),
    "subscription": ("plan", "membership"),
    "payment": ("transaction", "charge"),
    "cancel": ("stop", "end"),
    "problem": ("issue",),
    "issue": ("problem",),
    "error": ("failure",),
    "please": ("kindly",),
    "help": ("assist",),
    "can't": ("cannot",),
    "doesn't": ("does not",),
    "urgent": ("pressing", "time-sensitive"),
    "price": ("cost",),
    "wrong": ("incorrect",),
    "need": ("want",),
    "add": ("include",),
    "app": ("application",),
}
DISTRACTORS = (
    "I am writing from my phone.",
    "This started after the last update.",
    "My colleague asked me to write in.",
    "We have used the product for two years.",
    "Sorry if this was asked before.",
    "I tried searching the help pages first.",
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_WORD = re.compile(r"[A-Za-z']+")
_CLOSING = re.compile(
    r"\b(thanks( in advance)?|thank you|cheers|(best |kind )?regards|best)[.,!]?(\s+\w+)?[.!]?$",
    flags=re.IGNORECASE,
)


class TemplateGenerator:
    """Slot filling, recombination, paraphrase and adversarial edits of seed items."""

    name = "template"
    version = TEMPLATE_VERSION

    def __init__(self, *, config_hash: str, adversarial_share: float = 0.25) -> None:
        self._config_hash = config_hash
        self._adversarial_share = adversarial_share

    def generate(self, label: str, n: int, seeds: Sequence[SeedItem], seed: int) -> Generated:
        usable = sorted({s.item_hash: s for s in seeds if s.text.strip()}.values(), key=_key)
        if not usable:
            raise GenerationFailed(self.name, f"no seed items of class {label!r} to start from")
        rng = random.Random(int(sha256_text(f"{label}\n{seed}")[:16], 16))
        rows = []
        for _ in range(n):
            first = rng.choice(usable)
            second = rng.choice(usable)
            text, operations, used = self._variant(first, second, rng)
            rows.append(
                SyntheticRow(
                    text=text,
                    label=label,
                    provenance=Provenance(
                        generator=self.name,
                        generator_version=self.version,
                        config_hash=self._config_hash,
                        seed=seed,
                        prompt_hash=None,
                        seed_items=used,
                        operations=tuple(operations),
                    ),
                )
            )
        return Generated(rows=rows, requested=n)

    def _variant(
        self, first: SeedItem, second: SeedItem, rng: random.Random
    ) -> tuple[str, list[str], tuple[str, ...]]:
        greeting, body, closing = _frame(first.text)
        sentences = [s for s in _SENTENCE.split(body) if s]
        operations: list[str] = []
        used = [first.item_hash]
        other = [s for s in _SENTENCE.split(_frame(second.text)[1]) if s]
        if second.item_hash != first.item_hash and other and rng.random() < 0.6:
            sentences[rng.randrange(len(sentences))] = rng.choice(other)
            used.append(second.item_hash)
            operations.append("recombine")
        if len(sentences) > 1 and rng.random() < 0.4:
            i = rng.randrange(len(sentences) - 1)
            sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
            operations.append("sentence_swap")
        body = " ".join(sentences)
        filled = _fill_slots(body, rng)
        if filled != body:
            operations.append("slot_fill")
        body = filled
        paraphrased = _synonyms(body, rng)
        if paraphrased != body:
            operations.append("synonyms")
        body = paraphrased
        greeting = rng.choice(GREETINGS) if greeting or rng.random() < 0.5 else ""
        closing = rng.choice(CLOSINGS) if closing or rng.random() < 0.5 else ""
        operations.append("frame")
        if rng.random() < self._adversarial_share:
            kind = rng.choice(("typo", "casing", "distractor"))
            body = _adversarial(body, kind, rng)
            operations.append(f"adversarial_{kind}")
        text = " ".join(part for part in (greeting, body, closing) if part)
        return text, operations, tuple(used)


def _key(seed: SeedItem) -> str:
    return seed.item_hash


def _frame(text: str) -> tuple[str, str, str]:
    """Split off a known greeting and closing (with a trailing name) from the body."""
    body = " ".join(text.split())
    greeting = closing = ""
    for candidate in sorted(GREETINGS, key=len, reverse=True):
        if body.lower().startswith(candidate.lower()):
            greeting, body = candidate, body[len(candidate) :].strip()
            break
    while match := _CLOSING.search(body):
        if match.start() == 0:
            break
        closing, body = match.group(0), body[: match.start()].strip()
    return greeting, body or text, closing


def _fill_slots(text: str, rng: random.Random) -> str:
    def number(match: re.Match[str]) -> str:
        value = match.group(0)
        return "".join(str(rng.randrange(1, 10)) if c.isdigit() else c for c in value)

    text = _NUMBER.sub(number, text)
    for pool in (MONTHS, WEEKDAYS, NAMES):
        for word in pool:
            if re.search(rf"\b{word}\b", text):
                text = re.sub(rf"\b{word}\b", rng.choice(pool), text)
    return text


def _synonyms(text: str, rng: random.Random) -> str:
    words = [m for m in _WORD.finditer(text) if m.group(0).lower() in SYNONYMS]
    if not words:
        return text
    chosen = sorted(rng.sample(words, min(2, len(words))), key=lambda m: m.start(), reverse=True)
    for match in chosen:
        replacement = rng.choice(SYNONYMS[match.group(0).lower()])
        if match.group(0)[0].isupper():
            replacement = replacement[0].upper() + replacement[1:]
        text = text[: match.start()] + replacement + text[match.end() :]
    return text


def _adversarial(text: str, kind: str, rng: random.Random) -> str:
    if kind == "typo":
        words = [m for m in _WORD.finditer(text) if len(m.group(0)) > 3]
        if words:
            match = rng.choice(words)
            word = match.group(0)
            i = rng.randrange(len(word) - 1)
            word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            return text[: match.start()] + word + text[match.end() :]
        return text
    if kind == "casing":
        return text.lower() if rng.random() < 0.5 else text.upper()
    sentences = [s for s in _SENTENCE.split(text) if s]
    sentences.insert(rng.randrange(len(sentences) + 1), rng.choice(DISTRACTORS))
    return " ".join(sentences)
