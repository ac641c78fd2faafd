import re

import pytest
from sqlalchemy import select, text

from govflow.errors import InputError, NotFound
from govflow.ledger.audit import count_events, verify_chain
from govflow.ledger.models import AuditEvent, Person, PersonStatus, Role
from govflow.ledger.people import (
    TOKEN_ITERATIONS,
    add_person,
    disable_person,
    get_person,
    hash_token,
    is_active,
    list_people,
    may_decide_tier,
    role_rank,
    rotate_token,
    set_status,
    verify_token,
)


def _add(ledger, person_id="alice", name="Alice Smith", role=Role.REVIEWER, actor="lead:carol"):
    with ledger.session() as session:
        person, token = add_person(
            session=session, person_id=person_id, display_name=name, role=role, actor=actor
        )
        return person, token


def _person(ledger, person_id="alice"):
    with ledger.reader() as session:
        return get_person(session=session, person_id=person_id)


def _events(ledger):
    with ledger.reader() as session:
        return [
            (e.actor, e.action, e.subject, e.details)
            for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))
        ]


def _all_text(ledger, table):
    with ledger.reader() as session:
        rows = session.execute(text(f"SELECT * FROM {table}")).all()
    return "\n".join(str(value) for row in rows for value in row)


def test_add_returns_token_once_and_stores_only_a_salted_hash(ledger):
    _, token = _add(ledger)

    stored = _person(ledger)
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)
    assert (stored.id, stored.display_name, stored.roles, stored.status) == (
        "alice",
        "Alice Smith",
        ["reviewer"],
        PersonStatus.ACTIVE,
    )
    scheme, iterations, salt, digest = stored.token_hash.split("$")
    assert (scheme, int(iterations)) == ("pbkdf2_sha256", TOKEN_ITERATIONS)
    assert re.fullmatch(r"[0-9a-f]{32}", salt) and re.fullmatch(r"[0-9a-f]{64}", digest)
    people_text, audit_text = _all_text(ledger, "people"), _all_text(ledger, "audit_events")
    assert token not in people_text
    assert token not in audit_text
    assert stored.token_hash not in audit_text
    assert digest not in audit_text and salt not in audit_text
    assert _events(ledger) == [
        (
            "lead:carol",
            "reviewer.added",
            "alice",
            {"role": "reviewer", "display_name": "Alice Smith"},
        )
    ]


def test_verify_token_accepts_only_the_current_token(ledger):
    _, first = _add(ledger)
    before = _person(ledger)
    with ledger.session() as session:
        second = rotate_token(session=session, person_id="alice", actor="lead:carol")
    after = _person(ledger)

    assert verify_token(before, first) is True
    assert verify_token(before, first + "x") is False
    assert verify_token(before, "") is False
    assert verify_token(after, first) is False
    assert verify_token(after, second) is True
    assert second != first
    assert first not in _all_text(ledger, "people") + _all_text(ledger, "audit_events")
    assert second not in _all_text(ledger, "people") + _all_text(ledger, "audit_events")
    assert after.token_hash not in _all_text(ledger, "audit_events")
    assert _events(ledger)[-1] == ("lead:carol", "reviewer.token_rotated", "alice", {})


def test_verify_token_is_false_without_a_usable_hash():
    assert verify_token(Person(id="x", token_hash=None), "anything") is False
    assert verify_token(Person(id="x", token_hash="plain"), "plain") is False
    assert verify_token(Person(id="x", token_hash="md5$1$00$00"), "t") is False
    assert verify_token(Person(id="x", token_hash="pbkdf2_sha256$x$00$00"), "t") is False


def test_same_token_hashes_differently_each_time():
    first, second = hash_token("same"), hash_token("same")

    assert first != second
    assert verify_token(Person(id="a", token_hash=first), "same")
    assert verify_token(Person(id="b", token_hash=second), "same")


def test_disable_is_idempotent_and_records_one_event(ledger):
    _add(ledger)
    with ledger.session() as session:
        disable_person(session=session, person_id="alice", actor="lead:carol")
    with ledger.reader() as session:
        after_first = count_events(session=session)
    with ledger.session() as session:
        again = disable_person(session=session, person_id="alice", actor="lead:carol")

    assert again.status == PersonStatus.DISABLED
    assert _person(ledger).status == PersonStatus.DISABLED
    assert after_first == 2
    assert _events(ledger) == [
        (
            "lead:carol",
            "reviewer.added",
            "alice",
            {"role": "reviewer", "display_name": "Alice Smith"},
        ),
        ("lead:carol", "reviewer.disabled", "alice", {"previous_status": "active"}),
    ]


def test_set_status_records_reason_and_skips_unchanged(ledger):
    _add(ledger)
    for _ in range(2):
        with ledger.session() as session:
            set_status(
                session=session,
                person_id="alice",
                status=PersonStatus.NEEDS_CALIBRATION,
                actor="flow-run:42",
                reason="agreement with gold 0.61 < 0.80",
            )

    assert _person(ledger).status == PersonStatus.NEEDS_CALIBRATION
    assert _events(ledger)[1:] == [
        (
            "flow-run:42",
            "reviewer.status_changed",
            "alice",
            {
                "from": "active",
                "to": "needs_calibration",
                "reason": "agreement with gold 0.61 < 0.80",
            },
        )
    ]


def test_set_status_needs_a_reason(ledger):
    _add(ledger)
    with pytest.raises(InputError) as raised, ledger.session() as session:
        set_status(
            session=session,
            person_id="alice",
            status=PersonStatus.DISABLED,
            actor="tester",
            reason="  ",
        )

    assert str(raised.value) == "a status change needs a reason"
    assert _person(ledger).status == PersonStatus.ACTIVE


def test_duplicate_id_is_refused_and_keeps_the_first_person(ledger):
    _, token = _add(ledger)

    with pytest.raises(InputError) as raised:
        _add(ledger, name="Someone Else", role=Role.LEAD)

    assert str(raised.value) == (
        "reviewer 'alice' already exists "
        "(use `govflow reviewers rotate-token alice` to issue a new token)"
    )
    kept = _person(ledger)
    assert (kept.display_name, kept.roles) == ("Alice Smith", ["reviewer"])
    assert verify_token(kept, token)
    with ledger.reader() as session:
        assert count_events(session=session) == 1


@pytest.mark.parametrize("bad_id", ["", "has space", "a/b", "x" * 101, "é", "semi;colon"])
def test_invalid_ids_are_refused(ledger, bad_id):
    with pytest.raises(InputError) as raised:
        _add(ledger, person_id=bad_id)

    assert str(raised.value) == (
        f"invalid reviewer id {bad_id!r} "
        "(use 1-100 characters: letters, digits, '.', '_', '@' or '-')"
    )
    with ledger.reader() as session:
        assert list_people(session=session) == []
        assert count_events(session=session) == 0


@pytest.mark.parametrize("good_id", ["a", "x" * 100, "Bob.K_1@example-org.com"])
def test_valid_id_edges_are_accepted(ledger, good_id):
    person, _ = _add(ledger, person_id=good_id)

    assert _person(ledger, good_id).id == person.id == good_id


def test_display_name_must_not_be_blank(ledger):
    with pytest.raises(InputError) as raised:
        _add(ledger, name="   ")

    assert str(raised.value) == "a reviewer's display name cannot be empty"


def test_unknown_person_is_not_found(ledger):
    hint = "(run `govflow reviewers list` to see reviewer ids)"
    with pytest.raises(NotFound) as missing:
        _person(ledger, "nobody")
    with pytest.raises(NotFound) as disabling, ledger.session() as session:
        disable_person(session=session, person_id="nobody", actor="tester")
    with pytest.raises(NotFound) as rotating, ledger.session() as session:
        rotate_token(session=session, person_id="nobody", actor="tester")

    for raised in (missing, disabling, rotating):
        assert str(raised.value) == f"reviewer 'nobody' not found {hint}"
        assert raised.value.exit_code == 4
    assert _events(ledger) == []


def test_list_people_is_ordered_by_id_and_filters_by_role(ledger):
    _add(ledger, person_id="zoe", name="Zoe", role=Role.LEAD)
    _add(ledger, person_id="alice", name="Alice", role=Role.REVIEWER)
    _add(ledger, person_id="mo", name="Mo", role=Role.REVIEWER)

    with ledger.reader() as session:
        everyone = [p.id for p in list_people(session=session)]
        reviewers = [p.id for p in list_people(session=session, role=Role.REVIEWER)]
        specialists = list_people(session=session, role=Role.SPECIALIST)

    assert everyone == ["alice", "mo", "zoe"]
    assert reviewers == ["alice", "mo"]
    assert specialists == []


def test_audit_chain_stays_intact_after_roster_writes(ledger):
    _add(ledger)
    _add(ledger, person_id="bob", role=Role.SPECIALIST)
    with ledger.session() as session:
        rotate_token(session=session, person_id="bob", actor="tester")
        disable_person(session=session, person_id="alice", actor="tester")
        set_status(
            session=session,
            person_id="bob",
            status=PersonStatus.NEEDS_CALIBRATION,
            actor="tester",
            reason="calibration round failed",
        )

    with ledger.reader() as session:
        report = verify_chain(session=session)
    assert report.is_intact
    assert report.events == 5


TIER_RULES = [
    (Role.ANNOTATOR, 1, False),
    (Role.ANNOTATOR, 2, False),
    (Role.REVIEWER, 1, True),
    (Role.REVIEWER, 2, False),
    (Role.SPECIALIST, 1, True),
    (Role.SPECIALIST, 2, True),
    (Role.LEAD, 1, True),
    (Role.LEAD, 2, True),
]


@pytest.mark.parametrize(("role", "tier", "allowed"), TIER_RULES)
def test_tier_rules(role, tier, allowed):
    person = Person(id="p", roles=[role.value], status=PersonStatus.ACTIVE)

    assert may_decide_tier(person, tier) is allowed


def test_tier_rules_use_the_highest_role_and_ignore_status():
    both = Person(id="p", roles=["annotator", "specialist"], status=PersonStatus.ACTIVE)
    disabled_lead = Person(id="q", roles=["lead"], status=PersonStatus.DISABLED)
    nobody = Person(id="r", roles=[], status=PersonStatus.ACTIVE)

    assert may_decide_tier(both, 2) is True
    assert may_decide_tier(disabled_lead, 2) is True
    assert is_active(disabled_lead) is False
    assert is_active(both) is True
    assert is_active(Person(id="s", status=PersonStatus.NEEDS_CALIBRATION)) is False
    assert may_decide_tier(nobody, 1) is False


def test_unknown_tier_is_an_input_error():
    with pytest.raises(InputError) as raised:
        may_decide_tier(Person(id="p", roles=["lead"]), 3)

    assert str(raised.value) == "unknown review tier 3 (review tiers are 1 and 2)"


def test_role_rank_orders_roles():
    assert [role_rank(r) for r in Role] == [0, 1, 2, 3]
    assert role_rank("lead") == role_rank(Role.LEAD) == 3


def test_gate_codes_are_bound_to_one_form_and_checked_with_the_stored_key(ledger):
    from govflow.ledger.people import gate_code, verify_gate_code

    with ledger.session() as session:
        person, token = add_person(
            session=session, person_id="bob", display_name="Bob", role=Role.REVIEWER, actor="t"
        )
        code = gate_code(token, "rt-1-a1")
        assert len(code) == 24 and code.count("-") == 4
        assert token not in code and person.code_key not in (None, token)
        assert verify_gate_code(person, "rt-1-a1", code)
        assert verify_gate_code(person, "rt-1-a1", code.replace("-", "").upper())
        assert not verify_gate_code(person, "rt-1-a2", code)  # another form
        assert not verify_gate_code(person, "rt-1-a1", token)  # the token is not a code
        old_key = person.code_key
        new_token = rotate_token(session=session, person_id="bob", actor="t")
        assert person.code_key != old_key
        assert not verify_gate_code(person, "rt-1-a1", code)
        assert verify_gate_code(person, "rt-1-a1", gate_code(new_token, "rt-1-a1"))
