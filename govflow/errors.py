"""The govflow exception hierarchy.

GovflowError                     base; ``message`` is one line for a person, ``hint`` the fix
├── ConfigError                  a setting is missing or malformed
├── LedgerError                  the ledger cannot do what was asked
│   ├── LedgerUnavailable        the database cannot be reached or opened
│   ├── MigrationError           the schema is not (and cannot be brought to) the current one
│   └── SnapshotError            a version's snapshot is missing, altered or cannot be stored
│       └── StoreUnavailable     the snapshot store cannot be reached
├── NotFound                     a referenced record (version, person, deployment, flow run,
│                                ...) does not exist, in the ledger or on the Prefect server
├── AuditChainBroken             the audit trail fails verification (carries the break)
├── PrefectUnavailable           the Prefect API cannot be reached or refused the request
├── NotInFlowRun                 a human step was called outside a Prefect flow run
├── BatchAborted                 a person (or the deadline policy) stopped a failed batch
├── GenerationFailed             a synthetic-data generator failed as a whole (names it)
├── CapExceeded                  a mix would exceed a synthetic-share cap (carries the numbers)
├── ReviewBatchFailed            a review batch's own run ended without decisions
├── AuditHeadMismatch            the chain does not descend from a recorded head hash
├── ModelError                   a model cannot be stored, loaded or trusted with its output
│   ├── ModelArtifactError       a stored model is missing, altered, or holds untrusted types
│   └── ErrorRateExceeded        too many rows of a prediction run failed (carries the counts)
└── InputError                   user-supplied input is unusable
    └── SourceError              a data source cannot be read (names the source)

Foreign exceptions are translated at the boundary (``raise ... from exc``); the CLI
turns any ``GovflowError`` into a single ``Error: ...`` line and a non-zero exit code.
"""

from __future__ import annotations

__all__ = [
    "AuditChainBroken",
    "AuditHeadMismatch",
    "BatchAborted",
    "CapExceeded",
    "ConfigError",
    "ErrorRateExceeded",
    "GenerationFailed",
    "GovflowError",
    "InputError",
    "LedgerError",
    "LedgerUnavailable",
    "MigrationError",
    "ModelArtifactError",
    "ModelError",
    "NotFound",
    "NotInFlowRun",
    "PrefectUnavailable",
    "ReviewBatchFailed",
    "SnapshotError",
    "SourceError",
    "StoreUnavailable",
]


class GovflowError(Exception):
    """Base class: a failure a person can understand and act on."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class ConfigError(GovflowError):
    """A setting is missing or malformed."""

    exit_code = 2


class LedgerError(GovflowError):
    """The ledger cannot do what was asked."""


class LedgerUnavailable(LedgerError):
    """The ledger database cannot be reached or opened."""

    exit_code = 3


class MigrationError(LedgerError):
    """The ledger schema is not, and cannot be brought to, the current revision."""

    exit_code = 3


class SnapshotError(LedgerError):
    """A version's Parquet snapshot is missing, altered, or cannot be written (names the URI)."""

    exit_code = 3


class StoreUnavailable(SnapshotError):
    """The snapshot store (a folder or an object store URL) cannot be reached."""


class NotFound(GovflowError):
    """A referenced record does not exist; ``where`` names the server asked, if not the ledger."""

    exit_code = 4

    def __init__(
        self, kind: str, key: str, *, where: str | None = None, hint: str | None = None
    ) -> None:
        place = f" on {where}" if where else ""
        super().__init__(f"{kind} {key!r} not found{place}", hint=hint)
        self.kind = kind
        self.key = key


class AuditChainBroken(GovflowError):
    """The audit trail fails verification at ``seq`` for ``reason``."""

    def __init__(self, seq: int, problem: str, detail: str) -> None:
        super().__init__(f"audit chain broken at event {seq}: {problem}: {detail}")
        self.seq = seq
        self.problem = problem
        self.detail = detail


class PrefectUnavailable(GovflowError):
    """The Prefect API cannot be reached or refused the request."""

    exit_code = 3


class NotInFlowRun(GovflowError):
    """A step that waits for people (a gate, a round) ran outside a Prefect flow run."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} must run inside a Prefect flow run")


class BatchAborted(GovflowError):
    """A person (or the deadline policy) stopped a batch that failed its checkpoint."""

    def __init__(self, dataset: str, stage: str, *, decided_by: list[str], note: str | None):
        who = ", ".join(decided_by) or "the deadline policy"
        super().__init__(
            f"{dataset}: batch aborted at the {stage} checkpoint by {who}"
            + (f" ({note})" if note else "")
        )
        self.dataset = dataset
        self.stage = stage
        self.decided_by = decided_by


class ReviewBatchFailed(GovflowError):
    """A review batch asked in a run of its own ended without recording decisions."""

    def __init__(self, batch: str, state: str | None) -> None:
        super().__init__(f"review batch {batch} ended {state or 'in an unknown state'}")
        self.batch = batch


class AuditHeadMismatch(GovflowError):
    """The audit chain does not contain ``expected``, a head hash recorded earlier."""

    def __init__(self, expected: str, *, events: int, head: str) -> None:
        super().__init__(
            f"the recorded head {expected} is not in the audit chain ({events} events, head "
            f"{head}): the chain was rewritten, or the hash is from another ledger"
        )
        self.expected = expected
        self.events = events
        self.head = head


class ModelError(GovflowError):
    """A model cannot be stored, loaded or trusted with its output."""


class ModelArtifactError(ModelError):
    """A stored model artifact is missing, changed on disk or carries untrusted types."""


class ErrorRateExceeded(ModelError):
    """More rows of a prediction run failed than ``limit`` allows.

    ``reasons`` counts the failed rows by error message, most frequent first.
    """

    def __init__(
        self, *, n_errors: int, n_rows: int, limit: float, reasons: dict[str, int]
    ) -> None:
        rate = n_errors / n_rows if n_rows else 0.0
        message = f"error rate {rate:.1%} above the limit {limit:.1%} ({n_errors} of {n_rows} rows)"
        if reasons:
            top, count = next(iter(reasons.items()))
            message += f"; most frequent: {top!r} x{count}"
        super().__init__(message)
        self.n_errors = n_errors
        self.n_rows = n_rows
        self.error_rate = rate
        self.limit = limit
        self.reasons = reasons


class InputError(GovflowError):
    """User-supplied input is unusable."""

    exit_code = 2


class SourceError(InputError):
    """A data source cannot be read; ``source`` names it."""

    def __init__(self, source: str, problem: str, *, hint: str | None = None) -> None:
        super().__init__(f"{source}: {problem}", hint=hint)
        self.source = source
        self.problem = problem


class GenerationFailed(GovflowError):
    """A synthetic-data generator failed as a whole; nothing of its batch is registered."""

    def __init__(self, generator: str, reason: str) -> None:
        super().__init__(f"generator {generator} failed: {reason}")
        self.generator = generator
        self.reason = reason


class CapExceeded(GovflowError):
    """A mixed version would exceed a cap; ``violations`` holds one line per cap."""

    def __init__(self, violations: list[str]) -> None:
        super().__init__("synthetic share above the cap: " + "; ".join(violations))
        self.violations = violations
