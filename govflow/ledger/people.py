"""The reviewer roster: annotators, reviewers, specialists and leads, and their tokens.

A person proves who they are with a token shown once when it is issued (``add_person``,
``rotate_token``); the ledger keeps only a salted PBKDF2 hash of it
(``pbkdf2_sha256$<iterations>$<salt_hex>$<hash_hex>``). Neither the token nor its hash ever
reaches the audit trail.

At a review gate a reviewer submits a one-time *gate code* instead of the token:
``gate_code(token, pause_key)``, an HMAC of the form's pause key (gate id and attempt) under
a key derived from the token (``code_key``, kept in the ledger to check codes). The token
itself never reaches Prefect, and a code stored in Prefect's database is useless once its
form has been answered: every form has a new pause key. ``govflow review decide`` computes
the code; ``govflow review code`` prints it for pasting into the Prefect UI.

Who may decide what:
- ``may_decide_tier`` answers from roles alone, by the one tier rule in ``govflow.domain``
  (``TIER_ROLES``: tier 1 takes a reviewer, specialist or lead; tier 2 only a specialist or
  lead; an annotator decides no tier).
- Status is a separate check: only an ``ACTIVE`` person may decide (``is_active``). A disabled
  person or one who ``NEEDS_CALIBRATION`` keeps their roles but must not decide, so callers
  check both ``is_active(person)`` and ``may_decide_tier(person, tier)``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.domain import may_answer_tier
from govflow.errors import InputError, NotFound
from govflow.ledger.audit import append_event
from govflow.ledger.bulk import lock_key
from govflow.ledger.models import Person, PersonStatus, Role, utcnow

TOKEN_SCHEME = "pbkdf2_sha256"
# Enough to make offline guessing costly while keeping one verification well under 50 ms.
TOKEN_ITERATIONS = 60_000
_SALT_BYTES = 16

_CODE_CONTEXT = b"govflow-gate-code-v1"
CODE_HEX = 20  # 80 bits, shown in groups of four

_ID_PATTERN = re.compile(r"[A-Za-z0-9._@-]{1,100}")
_NAME_MAX = 200
_LIST_HINT = "run `govflow reviewers list` to see reviewer ids"

_RANKS = {Role.ANNOTATOR: 0, Role.REVIEWER: 1, Role.SPECIALIST: 2, Role.LEAD: 3}


def hash_token(token: str, *, iterations: int = TOKEN_ITERATIONS) -> str:
    """Return a salted hash of ``token`` in ``pbkdf2_sha256$<iter>$<salt>$<hash>`` form."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha256", token.encode("utf-8"), salt, iterations)
    return f"{TOKEN_SCHEME}${iterations}${salt.hex()}${digest.hex()}"


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(24)
    return token, hash_token(token)


def code_key(token: str) -> str:
    """Derive the key that checks a reviewer's gate codes (hex); it is not the token."""
    return hmac.new(token.encode("utf-8"), _CODE_CONTEXT, hashlib.sha256).hexdigest()


def _code_from_key(key_hex: str, pause_key: str) -> str:
    digest = hmac.new(bytes.fromhex(key_hex), pause_key.encode("utf-8"), hashlib.sha256)
    raw = digest.hexdigest()[:CODE_HEX]
    return "-".join(raw[i : i + 4] for i in range(0, CODE_HEX, 4))


def gate_code(token: str, pause_key: str) -> str:
    """The one-time code for the form asked at ``pause_key`` (``xxxx-xxxx-xxxx-xxxx-xxxx``)."""
    return _code_from_key(code_key(token), pause_key)


def normalize_code(code: str) -> str:
    """Read a typed code: dashes and spaces are ignored, case does not matter."""
    return re.sub(r"[\s-]", "", code).lower()


def verify_gate_code(person: Person, pause_key: str, code: str) -> bool:
    """Tell whether ``code`` is ``person``'s code for the form at ``pause_key``."""
    if not person.code_key or not code:
        return False
    expected = normalize_code(_code_from_key(person.code_key, pause_key))
    return hmac.compare_digest(normalize_code(code).encode(), expected.encode())


def verify_token(person: Person, token: str) -> bool:
    """Tell whether ``token`` is ``person``'s current token (constant-time comparison).

    A person without a token hash, or with a hash in an unknown format, matches nothing.
    """
    stored = person.token_hash
    if not stored or not token:
        return False
    try:
        scheme, iterations_text, salt_hex, digest_hex = stored.split("$")
        iterations = int(iterations_text)
        salt = bytes.fromhex(salt_hex)
        expected = bytes.fromhex(digest_hex)
    except ValueError:
        return False
    if scheme != TOKEN_SCHEME or iterations < 1:
        return False
    actual = hashlib.pbkdf2_hmac("sha256", token.encode("utf-8"), salt, iterations)
    return hmac.compare_digest(actual, expected)


def _check_id(person_id: str) -> None:
    if not _ID_PATTERN.fullmatch(person_id):
        raise InputError(
            f"invalid reviewer id {person_id!r}",
            hint="use 1-100 characters: letters, digits, '.', '_', '@' or '-'",
        )


def _check_name(display_name: str) -> str:
    name = display_name.strip()
    if not name:
        raise InputError("a reviewer's display name cannot be empty")
    if len(name) > _NAME_MAX:
        raise InputError(f"display name is too long: {len(name)} characters (at most {_NAME_MAX})")
    return name


def add_person(
    *, session: Session, person_id: str, display_name: str, role: Role, actor: str
) -> tuple[Person, str]:
    """Add a person with one role; return them and their token, which is not kept anywhere."""
    _check_id(person_id)
    name = _check_name(display_name)
    role = Role(role)
    lock_key(session=session, key=f"person:{person_id}")
    if session.get(Person, person_id) is not None:
        raise InputError(
            f"reviewer {person_id!r} already exists",
            hint=f"use `govflow reviewers rotate-token {person_id}` to issue a new token",
        )
    token, token_hash = _new_token()
    now = utcnow()
    person = Person(
        id=person_id,
        display_name=name,
        roles=[role.value],
        status=PersonStatus.ACTIVE,
        token_hash=token_hash,
        code_key=code_key(token),
        created_at=now,
        updated_at=now,
    )
    session.add(person)
    session.flush([person])
    append_event(
        session=session,
        actor=actor,
        action="reviewer.added",
        subject=person_id,
        details={"role": role.value, "display_name": name},
    )
    return person, token


def get_person(*, session: Session, person_id: str) -> Person:
    """Return the person with this id."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("reviewer", person_id, hint=_LIST_HINT)
    return person


def list_people(*, session: Session, role: Role | None = None) -> list[Person]:
    """Return everyone on the roster ordered by id, optionally only those holding ``role``."""
    people = list(session.scalars(select(Person).order_by(Person.id)))
    if role is None:
        return people
    wanted = Role(role).value
    # Roles are a JSON list; filtering here keeps SQLite and Postgres alike.
    return [p for p in people if wanted in (p.roles or [])]


def disable_person(*, session: Session, person_id: str, actor: str) -> Person:
    """Disable a person; disabling someone already disabled changes and records nothing."""
    person = get_person(session=session, person_id=person_id)
    if person.status == PersonStatus.DISABLED:
        return person
    previous = person.status
    person.status = PersonStatus.DISABLED
    person.updated_at = utcnow()
    session.flush([person])
    append_event(
        session=session,
        actor=actor,
        action="reviewer.disabled",
        subject=person_id,
        details={"previous_status": PersonStatus(previous).value},
    )
    return person


def rotate_token(*, session: Session, person_id: str, actor: str) -> str:
    """Issue a new token for a person and return it; their old token stops working."""
    person = get_person(session=session, person_id=person_id)
    token, token_hash = _new_token()
    person.token_hash = token_hash
    person.code_key = code_key(token)
    person.updated_at = utcnow()
    session.flush([person])
    append_event(session=session, actor=actor, action="reviewer.token_rotated", subject=person_id)
    return token


def set_status(
    *, session: Session, person_id: str, status: PersonStatus, actor: str, reason: str
) -> Person:
    """Set a person's status, recording why; setting the current status records nothing."""
    status = PersonStatus(status)
    if not reason.strip():
        raise InputError("a status change needs a reason")
    person = get_person(session=session, person_id=person_id)
    if person.status == status:
        return person
    previous = PersonStatus(person.status)
    person.status = status
    person.updated_at = utcnow()
    session.flush([person])
    append_event(
        session=session,
        actor=actor,
        action="reviewer.status_changed",
        subject=person_id,
        details={"from": previous.value, "to": status.value, "reason": reason.strip()},
    )
    return person


def role_rank(role: Role | str) -> int:
    """Return the seniority of a role: annotator 0, reviewer 1, specialist 2, lead 3."""
    return _RANKS[Role(role)]


def may_decide_tier(person: Person, tier: int) -> bool:
    """Tell whether ``person``'s roles allow deciding at review ``tier`` (1 or 2).

    Roles only (the rule is ``govflow.domain.may_answer_tier``): whether the person is
    ``ACTIVE`` is a separate check (``is_active``).
    """
    try:
        return may_answer_tier(person.roles or [], tier)
    except ValueError:
        raise InputError(f"unknown review tier {tier!r}", hint="review tiers are 1 and 2") from None


def is_active(person: Person) -> bool:
    """Tell whether a person may act at all (only ``ACTIVE`` people may decide)."""
    return person.status == PersonStatus.ACTIVE
