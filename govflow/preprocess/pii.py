"""PII redaction: e-mail addresses, phone numbers and payment card numbers.

Each match is replaced by a typed placeholder (``[EMAIL]``, ``[PHONE]``, ``[CARD]``) and
counted; nothing of the original value is kept. Kinds are redacted in a fixed order: e-mail
first (addresses may contain digit runs), then cards (a card number contains phone-like
groups), then phones.

Rules (``PII_VERSION`` 1; change them only with a version bump, the version goes into lineage):

- e-mail: ``local@domain.tld`` with a Unicode word/``.%+-`` local part, dot-separated domain
  labels and an alphabetic TLD of two or more letters (``user@localhost`` is not redacted).
- card: 13-19 digits with no separators, or groups of four separated by one space or dash
  each (4-4-4-1..4, 4-4-4-4-3), or the Amex/Diners 4-6-4/4-6-5 grouping; the first
  digit must be 2-6 (the issuer ranges in use) and the digits must pass the Luhn check. About
  one random digit string in ten passes Luhn, so such IDs of card length are redacted too.
- phone: international ``+CC`` numbers with spaces, dots, dashes and an optional area code in
  parentheses; ``(415) 555-0132``; ``415-555-0132`` / ``415.555.0132`` / ``415 555 0132``
  (one separator throughout); national numbers with a trunk ``0`` and space or dash groups
  (``020 7946 0958``, ``030 1234567``); French ``01 23 45 67 89``. A match must have 7-15
  digits (E.164 allows at most 15) and must not touch a letter, digit, ``+``, ``.``, ``,``,
  ``/`` or ``-`` on its left, nor continue as a longer number or decimal on its right, so
  years, versions (1.2.3), ISO dates, prices, decimals and 5-digit order numbers stay.
  Seven-digit local numbers without an area code (``555-0132``) are not redacted: the same
  shape is too common in ranges and references.

A card or phone match that fails its check (Luhn, digit count) is kept, and the search goes
on from its second character, so a longer digit run cannot hide a card inside it. Only
ASCII digits count as digits. A column is scanned once by pyarrow (RE2) for rows holding
an ``@`` or seven digits close together (a superset of every rule's matches); only those rows
go through the Python regexes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from govflow.preprocess.normalize import as_text_array, to_series

__all__ = [
    "PII_KINDS",
    "PII_VERSION",
    "PLACEHOLDERS",
    "PiiCounts",
    "RedactionResult",
    "luhn_valid",
    "redact_arrow",
    "redact_series",
    "redact_text",
]

PII_VERSION = 1
PII_KINDS = ("emails", "phones", "cards")
PLACEHOLDERS = {"emails": "[EMAIL]", "phones": "[PHONE]", "cards": "[CARD]"}

EMAIL_RE = re.compile(r"[\w.%+-]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}")

CARD_RE = re.compile(
    r"""
    (?<![\w.,+/-])
    (?:
        [0-9]{13,19}
      | [0-9]{4}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{1,4}(?:[ -][0-9]{3})?
      | [0-9]{4}(?P<a>[ -])[0-9]{6}(?P=a)[0-9]{4,5}
    )
    (?![0-9]|[.,-][0-9])
    """,
    re.VERBOSE,
)

PHONE_RE = re.compile(
    r"""
    (?<![\w+.,/-])
    (?:
        \+[0-9]{1,3}[ .-]?(?:\([0-9]{1,4}\)[ .-]?)?[0-9]{1,4}(?:[ .-]?[0-9]{2,4}){1,4}
      | \([0-9]{2,4}\)[ .-]?[0-9]{3,4}[ .-]?[0-9]{3,4}
      | [0-9]{3}(?P<s>[ .-])[0-9]{3}(?P=s)[0-9]{4}
      | 0[0-9]{2,4}[ -][0-9]{3,4}[ -]?[0-9]{3,4}
      | 0[1-9](?P<f>[ .])[0-9]{2}(?:(?P=f)[0-9]{2}){3}
    )
    (?![0-9]|[.,-][0-9])
    """,
    re.VERBOSE,
)

# Superset of the rows any rule above can match: an "@" or seven digits with at most three
# separator characters between neighbours (every phone and card pattern satisfies this).
_CANDIDATE_RE2 = r"@|[0-9](?:[ ().-]{0,3}[0-9]){6}"

_NON_DIGITS = re.compile(r"[^0-9]")


class PiiCounts(NamedTuple):
    """How many values of each kind were redacted."""

    emails: int = 0
    phones: int = 0
    cards: int = 0


@dataclass(frozen=True, eq=False)
class RedactionResult:
    """Redacted texts, per-row counts (columns ``PII_KINDS``, same index) and totals."""

    text: pd.Series
    counts: pd.DataFrame

    @property
    def totals(self) -> dict[str, int]:
        """Return the number of redactions of each kind over all rows."""
        return {kind: int(self.counts[kind].sum()) for kind in PII_KINDS}


def luhn_valid(digits: str) -> bool:
    """Return whether a string of ASCII digits passes the Luhn checksum."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _is_card(candidate: str) -> bool:
    digits = _NON_DIGITS.sub("", candidate)
    return digits[0] in "23456" and luhn_valid(digits)


def _is_phone(candidate: str) -> bool:
    return 7 <= len(_NON_DIGITS.sub("", candidate)) <= 15


def _redact_checked(
    pattern: re.Pattern[str], check: Callable[[str], bool], placeholder: str, text: str
) -> tuple[str, int]:
    """Replace the matches of ``pattern`` that pass ``check``; return the text and the count.

    After a rejected match the search resumes one character later rather than after it, so
    a long digit run that is not a card or phone cannot hide one that starts inside it.
    """
    pieces: list[str] = []
    hits = 0
    done = 0
    position = 0
    while match := pattern.search(text, position):
        if check(match.group()):
            pieces += (text[done : match.start()], placeholder)
            hits += 1
            done = position = match.end()
        else:
            position = match.start() + 1
    if not hits:
        return text, 0
    pieces.append(text[done:])
    return "".join(pieces), hits


def redact_text(text: str) -> tuple[str, PiiCounts]:
    """Redact one string; return the redacted text and the counts per kind."""
    text, emails = EMAIL_RE.subn(PLACEHOLDERS["emails"], text)
    text, cards = _redact_checked(CARD_RE, _is_card, PLACEHOLDERS["cards"], text)
    text, phones = _redact_checked(PHONE_RE, _is_phone, PLACEHOLDERS["phones"], text)
    return text, PiiCounts(emails=emails, phones=phones, cards=cards)


def redact_arrow(texts: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Redact a pyarrow string array; return it and an (n, 3) int64 array of counts.

    Count columns follow ``PII_KINDS``. Nulls stay null with zero counts.
    """
    counts = np.zeros((len(texts), len(PII_KINDS)), dtype=np.int64)
    candidates = pc.fill_null(pc.match_substring_regex(texts, _CANDIDATE_RE2), False)
    rows = np.flatnonzero(candidates.to_numpy(zero_copy_only=False))
    if rows.size == 0:
        return texts, counts
    redacted = []
    for row, value in zip(rows, pc.take(texts, pa.array(rows)).to_pylist(), strict=True):
        new, found = redact_text(value)
        redacted.append(new)
        counts[row] = found
    out = pc.replace_with_mask(texts, candidates, pa.array(redacted, type=texts.type))
    return out, counts


def redact_series(texts: pd.Series) -> RedactionResult:
    """Redact a Series of strings; missing values stay missing, the index is kept."""
    out, counts = redact_arrow(as_text_array(texts))
    return RedactionResult(
        text=to_series(out, index=texts.index),
        counts=pd.DataFrame(counts, columns=list(PII_KINDS), index=texts.index),
    )
