"""The governance ledger: SQLAlchemy models, sessions, and keyword-only write functions.

Every write goes through the functions of this package's modules; the caller owns the
transaction (``with ledger.session() as session: ...``).
"""

from govflow.ledger.engine import Ledger, mask_url

__all__ = ["Ledger", "mask_url"]
