"""Versioned annotation guidelines: what a lead writes, what the ledger keeps, what changed.

A lead writes a guideline as a YAML or JSON file (``GuidelineDocument``) and publishes it;
each publish of new content takes the project's next version number (1, 2, ...) and links
to the version before it. Publishing content identical to the latest version changes
nothing, so re-running a publish is safe. A version may start as a draft and be approved
later; annotators and review gates use the latest *published* version.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govflow.configfiles import describe_errors, read_mapping
from govflow.domain import GuidelineStatus
from govflow.errors import InputError, NotFound
from govflow.hashing import content_hash, sha256_text
from govflow.ledger.audit import append_event
from govflow.ledger.bulk import lock_key
from govflow.ledger.models import GuidelineVersion

__all__ = [
    "GuidelineDocument",
    "GuidelineExample",
    "GuidelineStatus",
    "approve_draft",
    "diff_guidelines",
    "ensure_published",
    "get_guideline",
    "get_guideline_version",
    "guideline_id_for",
    "list_guidelines",
    "load_guideline_document",
    "publish_guideline",
]

_PROJECT = re.compile(r"[A-Za-z0-9._-]{1,200}")
_SUFFIXES = (".yaml", ".yml", ".json")


class _Model(BaseModel):
    # A misspelt key must fail loudly rather than silently drop a part of the guideline.
    model_config = ConfigDict(extra="forbid")


class GuidelineExample(_Model):
    """One worked example: a text, the label it should get and, optionally, why."""

    text: str = Field(min_length=1)
    label: str
    note: str | None = None


class GuidelineDocument(_Model):
    """A guideline as a lead writes it; when ``ordinal`` the label order is the scale order."""

    project: str
    label_set: list[str]
    ordinal: bool = False
    instructions: str
    examples: list[GuidelineExample] = Field(default_factory=list)
    changelog: str
    prompted_by: str | None = Field(default=None, max_length=200)

    @field_validator("project")
    @classmethod
    def _valid_project(cls, value: str) -> str:
        if not _PROJECT.fullmatch(value):
            raise ValueError("use 1-200 letters, digits, '.', '_' or '-'")
        return value

    @field_validator("label_set")
    @classmethod
    def _valid_labels(cls, labels: list[str]) -> list[str]:
        labels = [label.strip() for label in labels]
        if any(not label for label in labels):
            raise ValueError("labels cannot be empty")
        duplicates = sorted({label for label in labels if labels.count(label) > 1})
        if duplicates:
            raise ValueError(f"duplicate labels: {', '.join(duplicates)}")
        if len(labels) < 2:
            raise ValueError(f"needs at least 2 labels, got {len(labels)}")
        return labels

    @field_validator("instructions", "changelog")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("cannot be empty")
        return value

    @field_validator("prompted_by")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @model_validator(mode="after")
    def _examples_use_the_labels(self) -> GuidelineDocument:
        for index, example in enumerate(self.examples):
            if example.label not in self.label_set:
                raise ValueError(f"examples[{index}].label: {example.label!r} is not in label_set")
        return self

    def content(self) -> dict[str, Any]:
        """Return the parts that make a version different from another."""
        return {
            "label_set": list(self.label_set),
            "ordinal": self.ordinal,
            "instructions": self.instructions,
            "examples": [e.model_dump(exclude_none=True) for e in self.examples],
        }


def load_guideline_document(path: str | Path) -> GuidelineDocument:
    """Read and validate a guideline from a ``.yaml``, ``.yml`` or ``.json`` file."""
    path = Path(path).expanduser()
    data = read_mapping(path, what="guideline file", fields="guideline fields", suffixes=_SUFFIXES)
    try:
        return GuidelineDocument.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{path}: invalid guideline: {describe_errors(exc)}") from None


def guideline_id_for(*, project: str, version: int) -> str:
    """Return the deterministic id of ``project``'s guideline version ``version``."""
    return "gl-" + sha256_text(f"{project}\n{version}")[:24]


def _latest(session: Session, project: str) -> GuidelineVersion | None:
    return session.scalars(
        select(GuidelineVersion)
        .where(GuidelineVersion.project == project)
        .order_by(GuidelineVersion.version.desc())
        .limit(1)
    ).first()


def publish_guideline(
    *,
    session: Session,
    document: GuidelineDocument,
    actor: str,
    status: GuidelineStatus | str = GuidelineStatus.PUBLISHED,
) -> tuple[GuidelineVersion, bool]:
    """Store ``document`` as the project's next version; return it and whether it is new.

    Content identical to the latest version (whatever its status) returns that version and
    writes nothing, so the changelog of a repeated publish is not recorded.
    """
    try:
        status = GuidelineStatus(status)
    except ValueError:
        raise InputError(
            f"unknown guideline status {status!r}", hint="use 'published' or 'draft'"
        ) from None
    content = document.content()
    digest = content_hash(content)
    # Serializes publishers of one project so that no two take the same version number.
    lock_key(session=session, key=f"guideline:{document.project}")
    latest = _latest(session, document.project)
    if latest is not None and latest.content_hash == digest:
        return latest, False
    version_number = 1 if latest is None else latest.version + 1
    guideline = GuidelineVersion(
        id=guideline_id_for(project=document.project, version=version_number),
        project=document.project,
        version=version_number,
        label_set=content["label_set"],
        is_ordinal=document.ordinal,
        text=document.instructions,
        examples=content["examples"],
        changelog=document.changelog,
        parent_id=latest.id if latest is not None else None,
        status=status,
        prompted_by=document.prompted_by,
        content_hash=digest,
        created_by=actor,
    )
    session.add(guideline)
    session.flush([guideline])
    action = "guideline.published" if status is GuidelineStatus.PUBLISHED else "guideline.drafted"
    append_event(
        session=session,
        actor=actor,
        action=action,
        subject=guideline.id,
        details={
            "project": guideline.project,
            "version": guideline.version,
            "parent_id": guideline.parent_id,
            "content_hash": digest,
            "changelog": guideline.changelog,
            "prompted_by": guideline.prompted_by,
        },
    )
    return guideline, True


def ensure_published(*, session: Session, document: GuidelineDocument, actor: str) -> str:
    """Publish ``document`` unless a version with the same content exists; return its id.

    Unlike ``publish_guideline`` (which compares with the latest version only), any earlier
    version with this content counts: re-running a pipeline with its original guideline
    file after a clarification was published must not publish the old text again.
    """
    existing = session.scalars(
        select(GuidelineVersion).where(
            GuidelineVersion.project == document.project,
            GuidelineVersion.content_hash == content_hash(document.content()),
        )
    ).first()
    if existing is not None:
        return existing.id
    return publish_guideline(session=session, document=document, actor=actor)[0].id


def approve_draft(*, session: Session, guideline_id: str, actor: str) -> GuidelineVersion:
    """Publish a draft guideline version."""
    guideline = session.get(GuidelineVersion, guideline_id)
    if guideline is None:
        raise NotFound("guideline version", guideline_id)
    if guideline.status is not GuidelineStatus.DRAFT:
        raise InputError(f"guideline {guideline.project} v{guideline.version} is already published")
    guideline.status = GuidelineStatus.PUBLISHED
    session.flush([guideline])
    append_event(
        session=session,
        actor=actor,
        action="guideline.approved",
        subject=guideline.id,
        details={"project": guideline.project, "version": guideline.version},
    )
    return guideline


def get_guideline(
    *, session: Session, project: str, version: int | None = None
) -> GuidelineVersion:
    """Return one version of a project's guideline; by default the latest published one."""
    query = select(GuidelineVersion).where(GuidelineVersion.project == project)
    if version is None:
        query = query.where(GuidelineVersion.status == GuidelineStatus.PUBLISHED)
    else:
        query = query.where(GuidelineVersion.version == version)
    found = session.scalars(query.order_by(GuidelineVersion.version.desc()).limit(1)).first()
    if found is not None:
        return found
    newest = session.scalar(
        select(func.max(GuidelineVersion.version)).where(GuidelineVersion.project == project)
    )
    if newest is None:
        raise NotFound(
            "guideline project",
            project,
            hint=f"publish one with `govflow guidelines publish {project} FILE`",
        )
    if version is None:
        raise NotFound(
            "published guideline",
            project,
            hint=f"{project} has only drafts so far (v1-v{newest}); approve one first",
        )
    raise NotFound("guideline", f"{project} v{version}", hint=f"the latest is v{newest}")


def get_guideline_version(*, session: Session, guideline_id: str) -> GuidelineVersion:
    """Return a guideline version by id."""
    found = session.get(GuidelineVersion, guideline_id)
    if found is None:
        raise NotFound("guideline version", guideline_id)
    return found


def list_guidelines(*, session: Session, project: str) -> list[GuidelineVersion]:
    """Return every version of a project's guideline, drafts included, oldest first."""
    return list(
        session.scalars(
            select(GuidelineVersion)
            .where(GuidelineVersion.project == project)
            .order_by(GuidelineVersion.version)
        )
    )


def _example_line(example: dict[str, Any]) -> str:
    line = f"{example['label']}: {json.dumps(example['text'], ensure_ascii=False)}"
    if example.get("note"):
        line += f" ({example['note']})"
    return line


def _key(example: dict[str, Any]) -> str:
    return json.dumps(example, sort_keys=True, ensure_ascii=False)


def diff_guidelines(old: GuidelineVersion, new: GuidelineVersion) -> str:
    """Describe what changed from ``old`` to ``new``, ending with ``new``'s changelog."""
    lines = [f"{new.project} v{old.version} -> v{new.version}"]
    old_labels, new_labels = list(old.label_set), list(new.label_set)
    added = [label for label in new_labels if label not in old_labels]
    removed = [label for label in old_labels if label not in new_labels]
    if added:
        lines.append(f"labels added: {', '.join(added)}")
    if removed:
        lines.append(f"labels removed: {', '.join(removed)}")
    kept_old = [label for label in old_labels if label in new_labels]
    kept_new = [label for label in new_labels if label in old_labels]
    if (old.is_ordinal or new.is_ordinal) and kept_old != kept_new:
        lines.append(f"scale order: {' < '.join(kept_old)} -> {' < '.join(kept_new)}")
    if old.is_ordinal != new.is_ordinal:
        flag = {True: "yes", False: "no"}
        lines.append(f"ordinal: {flag[old.is_ordinal]} -> {flag[new.is_ordinal]}")
    instructions = list(
        difflib.unified_diff(
            old.text.splitlines(),
            new.text.splitlines(),
            fromfile=f"v{old.version}",
            tofile=f"v{new.version}",
            lineterm="",
        )
    )
    if instructions:
        lines += ["instructions:", *instructions]
    old_keys = {_key(e) for e in old.examples}
    new_keys = {_key(e) for e in new.examples}
    examples_added = [e for e in new.examples if _key(e) not in old_keys]
    examples_removed = [e for e in old.examples if _key(e) not in new_keys]
    if examples_added:
        lines += ["examples added:", *(f"  + {_example_line(e)}" for e in examples_added)]
    if examples_removed:
        lines += ["examples removed:", *(f"  - {_example_line(e)}" for e in examples_removed)]
    if len(lines) == 1:
        lines.append("no changes to labels, instructions or examples")
    lines.append(f"changelog v{new.version}: {new.changelog}")
    return "\n".join(lines)
