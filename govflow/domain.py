"""Small domain enums shared by the ledger, the review gates and the CLI (no heavy imports)."""

from __future__ import annotations

import enum


class Origin(enum.StrEnum):
    ORGANIC = "organic"
    SYNTHETIC = "synthetic"


class Role(enum.StrEnum):
    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"
    SPECIALIST = "specialist"
    LEAD = "lead"


class PersonStatus(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    NEEDS_CALIBRATION = "needs_calibration"


__all__ = ["Origin", "PersonStatus", "Role"]
