"""govflow: governed, traceable AI data workflows.

The library layer: domain models, the ledger, review-gate logic, validation glue,
settings and the CLI. Importing this package does no I/O and pulls in neither
Prefect nor Great Expectations.
"""

__version__ = "0.1.0"
