import pandas as pd

from govflow.validation.checkpoint import validate_frame
from govflow.validation.chunked import is_row_local, merge_outcomes, split_suite
from govflow.validation.suites import load_suite


def _frame():
    rows = [
        {
            "ticket_id": f"T{n:05d}",
            "text": f"ticket {n}",
            "channel": "email",
            "created_at": "2026-10-01T10:00:00Z",
        }
        for n in range(1, 41)
    ]
    rows[3]["channel"] = "fax"
    rows[17]["ticket_id"] = "T00002"  # a duplicate across chunks
    rows[25]["text"] = None
    rows[33]["ticket_id"] = "bad"
    return pd.DataFrame(rows).astype("string")


def test_chunked_validation_equals_whole_frame_validation():
    suite = load_suite("support_tickets", "raw")
    frame = _frame()
    local, whole = split_suite(suite)

    chunks = [
        (start, validate_frame(frame.iloc[start : start + 7].reset_index(drop=True), local))
        for start in range(0, len(frame), 7)
    ]
    merged = merge_outcomes(
        suite, chunks=chunks, whole=validate_frame(frame, whole), rows_in=len(frame)
    )
    reference = validate_frame(frame, suite)

    assert merged.quarantined == reference.quarantined
    assert [(r.label, r.success, r.unexpected_count) for r in merged.results] == [
        (r.label, r.success, r.unexpected_count) for r in reference.results
    ]
    assert (merged.rows_passed, merged.rows_quarantined, merged.batch_failure_reasons) == (
        reference.rows_passed,
        reference.rows_quarantined,
        reference.batch_failure_reasons,
    )
    assert merged.quarantined_positions() == [1, 3, 17, 25, 33]


def test_uniqueness_and_table_checks_run_on_the_whole_frame():
    assert not is_row_local({"type": "expect_column_values_to_be_unique", "kwargs": {}})
    assert not is_row_local({"type": "expect_table_row_count_to_be_between", "kwargs": {}})
    assert is_row_local({"type": "expect_column_values_to_match_regex", "kwargs": {}})
    assert is_row_local({"type": "expect_column_value_lengths_to_be_between", "kwargs": {}})
