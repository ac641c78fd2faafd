"""PII redaction: exact outputs and counts for positive and negative examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from govflow.preprocess.pii import PiiCounts, luhn_valid, redact_series, redact_text

# (input, redacted output, (emails, phones, cards), the PII values that must disappear)
POSITIVE = [
    ("mail john.doe+news@mail.example.co.uk now", "mail [EMAIL] now", (1, 0, 0)),
    ("ping a_b-c@sub.domain.org.", "ping [EMAIL].", (1, 0, 0)),
    ("Write to ANNA.K@Example.COM, thanks", "Write to [EMAIL], thanks", (1, 0, 0)),
    ("x@y.io and z+tag@w.example.net", "[EMAIL] and [EMAIL]", (2, 0, 0)),
    ("call +1 (415) 555-0132 today", "call [PHONE] today", (0, 1, 0)),
    ("office 020 7946 0958.", "office [PHONE].", (0, 1, 0)),
    ("dots 415.555.0132 work", "dots [PHONE] work", (0, 1, 0)),
    ("dashes 415-555-0132", "dashes [PHONE]", (0, 1, 0)),
    ("spaces 415 555 0132", "spaces [PHONE]", (0, 1, 0)),
    ("area (415) 555-0132", "area [PHONE]", (0, 1, 0)),
    ("uk +44 20 7946 0958", "uk [PHONE]", (0, 1, 0)),
    ("uk +44 (0)20 7946 0958", "uk [PHONE]", (0, 1, 0)),
    ("de +49 30 1234567", "de [PHONE]", (0, 1, 0)),
    ("fr +33 1 23 45 67 89", "fr [PHONE]", (0, 1, 0)),
    ("fr 01 23 45 67 89", "fr [PHONE]", (0, 1, 0)),
    ("mobile 07700 900123", "mobile [PHONE]", (0, 1, 0)),
    ("e164 +14155550132", "e164 [PHONE]", (0, 1, 0)),
    ("tel:415-555-0132, fax 415-555-0199", "tel:[PHONE], fax [PHONE]", (0, 2, 0)),
    ("pay 4111 1111 1111 1111 ok", "pay [CARD] ok", (0, 0, 1)),
    ("mc 5500-0000-0000-0004", "mc [CARD]", (0, 0, 1)),
    ("plain 4111111111111111", "plain [CARD]", (0, 0, 1)),
    ("amex 378282246310005", "amex [CARD]", (0, 0, 1)),
    ("amex 3782 822463 10005", "amex [CARD]", (0, 0, 1)),
    ("mixed 4111-1111 1111-1111", "mixed [CARD]", (0, 0, 1)),
    ("card 4111 1111 1111 1111 in 2024", "card [CARD] in 2024", (0, 0, 1)),
    (
        "jo@ex.com +1 415 555 0132 4111 1111 1111 1111",
        "[EMAIL] [PHONE] [CARD]",
        (1, 1, 1),
    ),
]

NEGATIVE = [
    "in 2024 we shipped",
    "version 1.2.3",
    "released 2024-05-01",
    "costs $12.50",
    "order 12345 and order 54321",
    "pi is 3.14159",
    "host 192.168.1.1",
    "total 1,234,567 units",
    "at 12:30:45",
    "dated 01.05.2024",
    "years 1999-2024",
    "2020 2021 2022",
    "ISBN 978-3-16-148410-0",
    "ip 10.200.300.4000",
    "not luhn 1234 5678 9012 3456",
    "not luhn 4111 1111 1111 1112",
    "not luhn 4111111111111112",
    "user@localhost",
    "@mention only",
    "email me at name at example dot com",
    "room 12-34",
    "local number 555-0132 without area code",
    "",
]


@pytest.mark.parametrize(("raw", "expected", "counts"), POSITIVE)
def test_redact_text_replaces_with_placeholder_when_pii(
    raw: str, expected: str, counts: tuple[int, int, int]
) -> None:
    assert redact_text(raw) == (expected, PiiCounts(*counts))


@pytest.mark.parametrize("raw", NEGATIVE)
def test_redact_text_leaves_text_unchanged_when_no_pii(raw: str) -> None:
    assert redact_text(raw) == (raw, PiiCounts(0, 0, 0))


def test_redact_series_matches_redact_text_when_table_examples() -> None:
    # The column path pre-filters rows cheaply; every row the rules match must pass it.
    texts = [raw for raw, _, _ in POSITIVE] + NEGATIVE
    result = redact_series(pd.Series(texts))
    expected = [redact_text(t) for t in texts]
    assert result.text.tolist() == [text for text, _ in expected]
    assert result.counts.to_numpy().tolist() == [list(counts) for _, counts in expected]


def test_redact_series_never_outputs_original_values_when_pii() -> None:
    secrets = [
        "john.doe+news@mail.example.co.uk",
        "+1 (415) 555-0132",
        "020 7946 0958",
        "415.555.0132",
        "4111 1111 1111 1111",
        "5500-0000-0000-0004",
        "378282246310005",
    ]
    texts = [f"row {i}: contact {secret} please" for i, secret in enumerate(secrets)]
    result = redact_series(pd.Series(texts))
    joined = "\n".join(result.text.tolist())
    for secret in secrets:
        assert secret not in joined
    digits = "".join(ch for ch in joined if ch.isdigit())
    assert digits == "0123456"  # only the row numbers are left


def test_redact_series_counts_per_row_and_totals_when_mixed_rows() -> None:
    texts = pd.Series(
        ["a@b.co and c@d.co", "nothing here", None, "call 415-555-0132 or 4111111111111111"],
        index=["w", "x", "y", "z"],
    )
    result = redact_series(texts)
    assert result.text.tolist()[0] == "[EMAIL] and [EMAIL]"
    assert result.text.isna().tolist() == [False, False, True, False]
    assert result.text.index.tolist() == ["w", "x", "y", "z"]
    assert result.counts.to_dict(orient="list") == {
        "emails": [2, 0, 0, 0],
        "phones": [0, 0, 0, 1],
        "cards": [0, 0, 0, 1],
    }
    assert result.counts.index.tolist() == ["w", "x", "y", "z"]
    assert result.totals == {"emails": 2, "phones": 1, "cards": 1}


def test_redact_series_returns_zero_counts_when_no_candidates() -> None:
    result = redact_series(pd.Series(["just words", "more words"]))
    assert result.text.tolist() == ["just words", "more words"]
    assert result.totals == {"emails": 0, "phones": 0, "cards": 0}
    assert result.counts.dtypes.tolist() == [np.dtype(np.int64)] * 3


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("4111111111111111", True),
        ("5500000000000004", True),
        ("378282246310005", True),
        ("79927398713", True),
        ("4111111111111112", False),
        ("1234567890123456", False),
    ],
)
def test_luhn_valid_returns_checksum_result_when_digits(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid
