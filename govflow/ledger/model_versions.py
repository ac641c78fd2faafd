"""Model versions, aliases and promotion certificates in the ledger.

A model version's id derives from its training data version, spec and seed
(``govflow.models.spec.model_version_id``), so registering the same training again finds
the existing row. An alias (``production``, ``staging``) names one version per project and
moves only through ``promote``, which needs a valid, unexpired, unused certificate issued
for exactly that move; every move is an audit event, so the alias's history is the chain.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.domain import CertificateKind
from govflow.errors import GovflowError, NotFound
from govflow.hashing import canonical_time, content_hash
from govflow.ledger.audit import append_event
from govflow.ledger.bulk import lock_key
from govflow.ledger.models import (
    ModelAlias,
    ModelVersion,
    PromotionCertificate,
    as_utc,
    utcnow,
)

__all__ = [
    "PRODUCTION",
    "PromotionRefused",
    "alias_of",
    "get_model_version",
    "issue_certificate",
    "list_aliases",
    "list_model_versions",
    "promote",
    "register_model_version",
    "valid_certificate",
]

PRODUCTION = "production"


class PromotionRefused(GovflowError):
    """An alias may not move: no valid certificate for the move (the reason says which)."""

    exit_code = 1


def register_model_version(
    *,
    session: Session,
    version_id: str,
    project: str,
    adapter: str,
    spec: dict[str, Any],
    seed: int,
    training_version_id: str | None,
    label_set: list[str],
    artifact: dict[str, Any] | None,
    details: dict[str, Any],
    flow_run_id: str | None,
    actor: str,
) -> tuple[ModelVersion, bool]:
    """Record a trained (or configured) model version; the same id returns the existing one."""
    lock_key(session=session, key=version_id)
    existing = session.get(ModelVersion, version_id)
    if existing is not None:
        return existing, False
    version = ModelVersion(
        id=version_id,
        project=project,
        adapter=adapter,
        spec=spec,
        seed=seed,
        training_version_id=training_version_id,
        label_set=list(label_set),
        artifact_uri=artifact["uri"] if artifact else None,
        artifact_sha256=artifact["sha256"] if artifact else None,
        artifact_size=artifact["size_bytes"] if artifact else None,
        details=details,
        flow_run_id=flow_run_id,
        created_by=actor,
    )
    session.add(version)
    session.flush([version])
    append_event(
        session=session,
        actor=actor,
        action="model.registered",
        subject=version_id,
        details={
            "project": project,
            "adapter": adapter,
            "training_version_id": training_version_id,
            "seed": seed,
            "artifact_sha256": version.artifact_sha256,
            "flow_run_id": flow_run_id,
        },
    )
    return version, True


def get_model_version(*, session: Session, version_id: str) -> ModelVersion:
    """Return a model version by id (a unique prefix of at least 6 characters also works)."""
    found = session.get(ModelVersion, version_id)
    if found is not None:
        return found
    if len(version_id) >= 6:
        matches = session.scalars(
            select(ModelVersion).where(ModelVersion.id.startswith(version_id)).limit(2)
        ).all()
        if len(matches) == 1:
            return matches[0]
    raise NotFound("model version", version_id, hint="run `govflow models list`")


def list_model_versions(*, session: Session, project: str | None = None) -> list[ModelVersion]:
    """Return model versions, newest first, optionally of one project."""
    query = select(ModelVersion).order_by(ModelVersion.created_at.desc(), ModelVersion.id)
    if project is not None:
        query = query.where(ModelVersion.project == project)
    return list(session.scalars(query))


def alias_of(*, session: Session, project: str, alias: str = PRODUCTION) -> ModelVersion | None:
    """Return the model version an alias names, or None while it names none."""
    found = session.get(ModelAlias, (project, alias))
    return session.get(ModelVersion, found.model_version_id) if found else None


def list_aliases(*, session: Session, project: str | None = None) -> list[ModelAlias]:
    """Return every alias, by project and name."""
    query = select(ModelAlias).order_by(ModelAlias.project, ModelAlias.alias)
    if project is not None:
        query = query.where(ModelAlias.project == project)
    return list(session.scalars(query))


def issue_certificate(
    *,
    session: Session,
    kind: CertificateKind,
    project: str,
    model_version_id: str,
    previous_model_version_id: str | None,
    evaluation_run_id: str | None,
    content: dict[str, Any],
    valid_for: timedelta,
    actor: str,
    alias: str = PRODUCTION,
) -> PromotionCertificate:
    """Issue the certificate for one alias move (once: the same move returns the first one)."""
    certificate_id = (
        "pc-"
        + content_hash(
            [
                kind.value,
                project,
                alias,
                model_version_id,
                previous_model_version_id,
                evaluation_run_id,
                content,
            ]
        )[:24]
    )
    lock_key(session=session, key=certificate_id)
    existing = session.get(PromotionCertificate, certificate_id)
    if existing is not None:
        return existing
    now = utcnow()
    certificate = PromotionCertificate(
        id=certificate_id,
        kind=kind,
        project=project,
        alias=alias,
        model_version_id=model_version_id,
        previous_model_version_id=previous_model_version_id,
        evaluation_run_id=evaluation_run_id,
        content=content,
        issued_at=now,
        expires_at=now + valid_for,
    )
    session.add(certificate)
    session.flush([certificate])
    append_event(
        session=session,
        actor=actor,
        action="model.certificate_issued",
        subject=certificate_id,
        details={
            "kind": kind.value,
            "project": project,
            "alias": alias,
            "model_version_id": model_version_id,
            "previous_model_version_id": previous_model_version_id,
            "evaluation_run_id": evaluation_run_id,
            "signers": content.get("signers", []),
            "expires_at": canonical_time(certificate.expires_at),
        },
    )
    return certificate


def valid_certificate(
    *, session: Session, certificate_id: str, now: datetime | None = None
) -> PromotionCertificate:
    """Return the certificate if it may move its alias now, else refuse saying why."""
    certificate = session.get(PromotionCertificate, certificate_id)
    if certificate is None:
        raise PromotionRefused(f"no promotion certificate {certificate_id!r}")
    now = now or utcnow()
    if certificate.used_at is not None:
        raise PromotionRefused(
            f"certificate {certificate_id} was already used at "
            f"{canonical_time(certificate.used_at)[:19]}Z"
        )
    if as_utc(certificate.expires_at) <= now:
        raise PromotionRefused(
            f"certificate {certificate_id} expired at "
            f"{canonical_time(certificate.expires_at)[:19]}Z; sign the evaluation again"
        )
    current = session.get(ModelAlias, (certificate.project, certificate.alias))
    current_id = current.model_version_id if current else None
    if current_id != certificate.previous_model_version_id:
        raise PromotionRefused(
            f"certificate {certificate_id} was signed to replace "
            f"{certificate.previous_model_version_id or 'no model'} as {certificate.alias}, "
            f"but {certificate.alias} is now {current_id or 'no model'}"
        )
    return certificate


def promote(
    *, session: Session, certificate_id: str, actor: str, now: datetime | None = None
) -> ModelAlias:
    """Move an alias with a valid certificate: the only way an alias ever moves.

    Re-running a promotion that already happened with this certificate changes nothing.
    """
    lock_key(session=session, key=f"alias:{certificate_id}")
    certificate = session.get(PromotionCertificate, certificate_id)
    if certificate is not None and certificate.used_at is not None:
        current = session.get(ModelAlias, (certificate.project, certificate.alias))
        if current is not None and current.certificate_id == certificate_id:
            return current
    certificate = valid_certificate(session=session, certificate_id=certificate_id, now=now)
    lock_key(session=session, key=f"alias:{certificate.project}:{certificate.alias}")
    alias = session.get(ModelAlias, (certificate.project, certificate.alias))
    previous = alias.model_version_id if alias else None
    when = now or utcnow()
    if alias is None:
        alias = ModelAlias(project=certificate.project, alias=certificate.alias)
        session.add(alias)
    alias.model_version_id = certificate.model_version_id
    alias.certificate_id = certificate.id
    alias.updated_at = when
    certificate.used_at = when
    session.flush()
    append_event(
        session=session,
        actor=actor,
        action="model.alias_moved",
        subject=f"{certificate.project}:{certificate.alias}",
        details={
            "from": previous,
            "to": certificate.model_version_id,
            "certificate_id": certificate.id,
            "kind": certificate.kind.value,
        },
    )
    return alias
