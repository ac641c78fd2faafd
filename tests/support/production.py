"""A demo model behind the ``production`` alias, set up through the ledger's own functions.

Training the demo's scikit-learn model takes a second; the release flow's gates (findings,
a quorum of signers) are tested in ``tests/flows/test_release_flow.py``, so monitoring tests
issue the promotion certificate directly and move the alias with it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from govflow.domain import CertificateKind
from govflow.ledger.datasets import get_version, read_version_records
from govflow.ledger.engine import Ledger
from govflow.ledger.model_versions import issue_certificate, promote
from govflow.models.registry import train_model_version
from govflow.records import records_to_frame
from tests.support.labeled import PROJECT, ROOT, register_demo_labeled

__all__ = ["MONITOR_CONFIG", "PRODUCTION_SOURCE", "PROJECT", "release_demo_model"]

MONITOR_CONFIG = ROOT / "monitoring" / "support-intent.yaml"
PRODUCTION_SOURCE = ROOT / "demo" / "production.source.yaml"


def release_demo_model(url: str, home: Path) -> str:
    """Train the demo model on the demo's labeled tickets and promote it; return its id."""
    labeled = register_demo_labeled(url, reviewer="bob")
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        version = get_version(session=session, version_id=labeled)
        frame = records_to_frame(read_version_records(session=session, version_id=version.id))
    trained = train_model_version(
        ledger=ledger,
        home=home,
        frame=frame,
        project=PROJECT,
        training_version_id=labeled,
        spec={"adapter": "sklearn-text", "C": 30.0},
        seed=0,
        label_set=["billing", "bug", "account", "feature_request", "other"],
        text_column="text",
        requested_by="lee",
        flow_run_id=None,
        actor="test",
    )
    with ledger.session() as session:
        certificate = issue_certificate(
            session=session,
            kind=CertificateKind.PROMOTION,
            project=PROJECT,
            model_version_id=trained.version_id,
            previous_model_version_id=None,
            evaluation_run_id=None,
            content={"signers": ["sam", "sue"]},
            valid_for=timedelta(days=1),
            actor="test",
        )
        promote(session=session, certificate_id=certificate.id, actor="test")
    ledger.dispose()
    return trained.version_id
