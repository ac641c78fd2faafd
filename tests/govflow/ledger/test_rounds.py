import json
from collections import Counter

import pytest
from sqlalchemy import func, select

from govflow.annotation.exchange import ImportReport, Rejection, RejectReason
from govflow.errors import InputError
from govflow.ledger.annotations import (
    add_gold_items,
    export_assignments,
    import_annotations,
    round_progress,
)
from govflow.ledger.audit import count_events
from govflow.ledger.datasets import prepare_items, register_dataset_version
from govflow.ledger.models import (
    Annotation,
    AnnotationRound,
    Assignment,
    AuditEvent,
    GuidelineVersion,
    Person,
    PersonStatus,
)
from govflow.ledger.rounds import open_round

RECORDS = [{"text": f"ticket {i}"} for i in range(30)]
GOLD_RECORDS = [{"text": f"gold ticket {i}"} for i in range(5)]
HASHES = prepare_items(RECORDS).hashes
GOLD_HASHES = prepare_items(GOLD_RECORDS).hashes
ANNOTATORS = ["ann1", "ann2", "ann3", "ann4"]
LABELS = ["bug", "billing", "other"]


def _person(session, person_id, roles=("annotator",), status=PersonStatus.ACTIVE):
    session.add(Person(id=person_id, display_name=person_id, roles=list(roles), status=status))


def _setup(ledger, records=RECORDS, annotators=ANNOTATORS):
    """Register the version, a guideline and the roster; return the version id."""
    with ledger.session() as session:
        version = register_dataset_version(
            session=session, name="tickets", stage="raw", items=prepare_items(records), actor="t"
        ).version
        register_dataset_version(
            session=session,
            name="gold",
            stage="raw",
            items=prepare_items(GOLD_RECORDS),
            actor="t",
        )
        session.add(
            GuidelineVersion(
                id="gl-1",
                project="support",
                version=1,
                label_set=LABELS,
                is_ordinal=False,
                text="Label the ticket.",
                examples=[],
                changelog="first",
                status="published",
                content_hash="0" * 64,
                created_by="test",
            )
        )
        for person_id in annotators:
            _person(session, person_id)
        _person(session, "calib", status=PersonStatus.NEEDS_CALIBRATION)
        _person(session, "gone", status=PersonStatus.DISABLED)
        _person(session, "rev", roles=("reviewer",))
        return version.id


def _open(ledger, version_id, overlap=2, gold_rate=0.0, seed=0):
    with ledger.session() as session:
        found, is_new = open_round(
            session=session,
            project="support",
            dataset_version_id=version_id,
            guideline_version_id="gl-1",
            overlap=overlap,
            gold_rate=gold_rate,
            actor="lead",
            seed=seed,
        )
        return found.id, is_new


def _assignments(ledger, round_id):
    with ledger.reader() as session:
        return session.execute(
            select(Assignment.item_hash, Assignment.annotator_id, Assignment.is_gold).where(
                Assignment.round_id == round_id
            )
        ).all()


def _add_gold(ledger):
    with ledger.session() as session:
        return add_gold_items(
            session=session,
            project="support",
            items=[(h, "bug") for h in GOLD_HASHES],
            actor="lead",
        )


def _export(ledger, round_id, fmt="jsonl", annotator_id=None):
    with ledger.reader() as session:
        return export_assignments(
            session=session, round_id=round_id, annotator_id=annotator_id, fmt=fmt
        )


def _import(ledger, round_id, content, fmt="jsonl"):
    with ledger.session() as session:
        return import_annotations(
            session=session, round_id=round_id, content=content, fmt=fmt, actor="lead"
        )


def _stored(ledger):
    with ledger.reader() as session:
        return sorted(
            session.execute(
                select(Annotation.item_hash, Annotation.annotator_id, Annotation.label)
            ).tuples()
        )


def test_open_round_assigns_each_item_to_overlap_distinct_active_annotators(ledger):
    version_id = _setup(ledger)

    round_id, is_new = _open(ledger, version_id)

    rows = _assignments(ledger, round_id)
    assert is_new is True
    assert len(rows) == 60
    assert Counter(h for h, _, _ in rows) == {h: 2 for h in HASHES}
    assert len({(h, a) for h, a, _ in rows}) == 60
    assert Counter(a for _, a, _ in rows) == {a: 15 for a in ANNOTATORS}
    assert not any(gold for _, _, gold in rows)
    with ledger.reader() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert (event.action, event.subject, event.actor) == (
        "annotation.round_opened",
        round_id,
        "lead",
    )
    assert event.details == {
        "project": "support",
        "dataset_version_id": version_id,
        "guideline_version_id": "gl-1",
        "overlap": 2,
        "gold_rate": 0.0,
        "items": 30,
        "annotators": 4,
        "assignments": 60,
        "gold": 0,
    }


def test_open_round_twice_returns_the_same_round_and_writes_nothing(ledger):
    version_id = _setup(ledger)
    first_id, _ = _open(ledger, version_id)
    with ledger.reader() as session:
        before = count_events(session=session)

    second_id, is_new = _open(ledger, version_id)

    with ledger.reader() as session:
        assert count_events(session=session) == before
        assert session.scalar(select(func.count()).select_from(AnnotationRound)) == 1
    assert (second_id, is_new) == (first_id, False)
    assert len(_assignments(ledger, first_id)) == 60


def test_open_round_with_overlap_above_active_annotators_raises(ledger):
    version_id = _setup(ledger)

    with pytest.raises(InputError) as excinfo:
        _open(ledger, version_id, overlap=5)

    assert excinfo.value.message == (
        "overlap 5 needs at least 5 active annotators; only 4 are active"
    )
    with ledger.reader() as session:
        assert session.scalar(select(func.count()).select_from(AnnotationRound)) == 0


def test_open_round_mixes_gold_at_rate_and_exports_hide_it(ledger):
    version_id = _setup(ledger)
    assert _add_gold(ledger) == 5

    round_id, _ = _open(ledger, version_id, gold_rate=0.2)

    rows = _assignments(ledger, round_id)
    gold_rows = [(h, a) for h, a, gold in rows if gold]
    assert len(rows) == 72
    assert len(gold_rows) == 12
    assert Counter(a for _, a in gold_rows) == {a: 3 for a in ANNOTATORS}
    assert {h for h, _ in gold_rows} <= set(GOLD_HASHES)
    assert Counter(a for _, a, _ in rows) == {a: 18 for a in ANNOTATORS}
    for fmt in ("jsonl", "label-studio"):
        text = _export(ledger, round_id, fmt=fmt)
        assert "gold" not in text.replace("gold ticket", "")
        assert "is_gold" not in text
    lines = [json.loads(line) for line in _export(ledger, round_id).splitlines()]
    assert {tuple(sorted(line)) for line in lines} == {("annotator", "data", "item", "round")}


def test_add_gold_items_rejects_labels_outside_the_guideline(ledger):
    _setup(ledger)

    with pytest.raises(InputError) as excinfo, ledger.session() as session:
        add_gold_items(
            session=session, project="support", items=[(GOLD_HASHES[0], "maybe")], actor="lead"
        )

    assert excinfo.value.message == (
        "gold labels not in the label set ['bug', 'billing', 'other']: 'maybe'"
    )


def test_export_jsonl_and_label_studio_have_the_documented_structure(ledger):
    version_id = _setup(ledger, records=RECORDS[:3], annotators=["ann1", "ann2"])
    round_id, _ = _open(ledger, version_id, overlap=1)
    owner = {h: a for h, a, _ in _assignments(ledger, round_id)}
    expected = sorted((owner[h], h, r) for h, r in zip(HASHES[:3], RECORDS[:3], strict=True))

    jsonl = _export(ledger, round_id)
    studio = json.loads(_export(ledger, round_id, fmt="label-studio"))
    only_ann1 = _export(ledger, round_id, annotator_id="ann1")

    assert [json.loads(line) for line in jsonl.splitlines()] == [
        {"round": round_id, "item": h, "annotator": a, "data": r} for a, h, r in expected
    ]
    assert studio == [
        {
            "id": n,
            "data": {**r, "govflow_item": h, "govflow_round": round_id},
            "meta": {"annotator": a},
        }
        for n, (a, h, r) in enumerate(expected, start=1)
    ]
    assert [json.loads(line)["annotator"] for line in only_ann1.splitlines()] == [
        a for a, _, _ in expected if a == "ann1"
    ]


def _line(round_id, item, annotator, label):
    return json.dumps({"round": round_id, "item": item, "annotator": annotator, "label": label})


def test_import_rejects_each_bad_row_with_its_reason_and_accepts_the_rest(ledger):
    version_id = _setup(ledger)
    round_id, _ = _open(ledger, version_id)
    rows = sorted(_assignments(ledger, round_id))
    (h0, a0, _), (h1, a1, _), (h2, a2, _) = rows[0], rows[2], rows[4]
    stranger = next(a for a in ANNOTATORS if (h0, a) not in {(h, x) for h, x, _ in rows})
    _import(ledger, round_id, _line(round_id, h2, a2, "bug") + "\n")
    content = "\n".join(
        [
            _line(round_id, h0, a0, "bug"),  # 1 accepted
            "{not json",  # 2
            _line(round_id, "f" * 64, a0, "bug"),  # 3 unknown item
            _line(round_id, h1, "nobody", "bug"),  # 4 unknown annotator
            _line(round_id, h1, a1, "maybe"),  # 5 label not in the guideline
            _line(round_id, h0, stranger, "bug"),  # 6 not assigned
            _line(round_id, h0, a0, "billing"),  # 7 duplicate in the file
            _line(round_id, h2, a2, "bug"),  # 8 already recorded
            _line(round_id, h2, a2, "other"),  # 9 duplicate in the file
            _line("ar-other", h1, a1, "bug"),  # 10 wrong round
            "",
            json.dumps({"round": round_id, "item": h1}),  # 12 missing fields
            _line(round_id, h1, a1, "billing"),  # 13 accepted
        ]
    )

    report = _import(ledger, round_id, content)

    def rejected(line, item, annotator, reason, message):
        return Rejection(line=line, item=item, annotator=annotator, reason=reason, message=message)

    assert report == ImportReport(
        round_id=round_id,
        lines=12,
        accepted=2,
        already_recorded=1,
        rejected=[
            rejected(
                2,
                None,
                None,
                RejectReason.UNPARSEABLE,
                "not valid JSON: Expecting property name enclosed in double quotes",
            ),
            rejected(3, "f" * 64, a0, RejectReason.UNKNOWN_ITEM, "unknown item"),
            rejected(4, h1, "nobody", RejectReason.UNKNOWN_ANNOTATOR, "unknown annotator 'nobody'"),
            rejected(
                5,
                h1,
                a1,
                RejectReason.LABEL_NOT_IN_GUIDELINE,
                "label 'maybe' is not in the guideline's label set",
            ),
            rejected(
                6,
                h0,
                stranger,
                RejectReason.NOT_ASSIGNED,
                f"not assigned to {stranger} in this round",
            ),
            rejected(
                7,
                h0,
                a0,
                RejectReason.DUPLICATE_IN_FILE,
                f"duplicate: {a0} already labelled this item earlier in the file",
            ),
            rejected(
                9,
                h2,
                a2,
                RejectReason.DUPLICATE_IN_FILE,
                f"duplicate: {a2} already labelled this item earlier in the file",
            ),
            rejected(
                10,
                h1,
                a1,
                RejectReason.WRONG_ROUND,
                f"belongs to round 'ar-other', not {round_id!r}",
            ),
            rejected(
                12,
                h1,
                None,
                RejectReason.UNPARSEABLE,
                "missing or non-text field 'annotator', 'label'",
            ),
        ],
        rejected_by_reason={
            "duplicate_in_file": 2,
            "label_not_in_guideline": 1,
            "not_assigned": 1,
            "unknown_annotator": 1,
            "unknown_item": 1,
            "unparseable": 2,
            "wrong_round": 1,
        },
    )
    assert report.lines == report.accepted + report.already_recorded + len(report.rejected)
    assert _stored(ledger) == sorted([(h0, a0, "bug"), (h1, a1, "billing"), (h2, a2, "bug")])
    with ledger.session() as session:
        stored = session.scalars(select(Annotation).where(Annotation.item_hash == h1)).one()
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert (stored.round_id, stored.dataset_version_id, stored.guideline_version_id) == (
        round_id,
        version_id,
        "gl-1",
    )
    assert (stored.is_excluded, stored.exclusion_reason) == (False, None)
    assert (event.action, event.details["accepted"], event.details["rejected"]) == (
        "annotation.imported",
        2,
        9,
    )


def test_reimport_counts_stored_rows_as_already_recorded_and_rejects_changed_labels(ledger):
    version_id = _setup(ledger)
    round_id, _ = _open(ledger, version_id)
    rows = sorted(_assignments(ledger, round_id))[:3]
    content = "".join(_line(round_id, h, a, "bug") + "\n" for h, a, _ in rows)
    first = _import(ledger, round_id, content)

    again = _import(ledger, round_id, content)
    changed = _import(ledger, round_id, _line(round_id, rows[0][0], rows[0][1], "other"))

    assert (first.accepted, first.already_recorded, first.rejected) == (3, 0, [])
    assert (again.lines, again.accepted, again.already_recorded, again.rejected) == (3, 0, 3, [])
    assert (changed.accepted, changed.already_recorded) == (0, 0)
    assert [(r.line, r.reason, r.message) for r in changed.rejected] == [
        (1, RejectReason.ALREADY_ANNOTATED, "already annotated with 'bug'")
    ]
    assert _stored(ledger) == sorted((h, a, "bug") for h, a, _ in rows)


def test_label_studio_export_annotated_and_imported_round_trips(ledger):
    version_id = _setup(ledger)
    round_id, _ = _open(ledger, version_id)
    tasks = json.loads(_export(ledger, round_id, fmt="label-studio"))
    for task in tasks:
        annotator = task["meta"]["annotator"]
        label = LABELS[task["id"] % 3]
        # Half the tasks name the annotator by email; the rest only by LS's numeric user id.
        completed_by = f"{annotator}@example.com" if task["id"] % 2 else 7
        task["annotations"] = [
            {
                "id": task["id"],
                "completed_by": completed_by,
                "was_cancelled": False,
                "result": [
                    {
                        "from_name": "label",
                        "to_name": "text",
                        "type": "choices",
                        "value": {"choices": [label]},
                    }
                ],
            }
        ]
    tasks.append({"id": 99, "data": {"text": "x"}, "annotations": []})
    tasks[0]["annotations"].append({"completed_by": 7, "was_cancelled": True, "result": []})

    report = _import(ledger, round_id, json.dumps(tasks), fmt="label-studio")
    with ledger.reader() as session:
        progress = round_progress(session=session, round_id=round_id)

    first = tasks[0]
    assert (report.lines, report.accepted, report.already_recorded) == (62, 60, 0)
    assert [(r.line, r.reason) for r in report.rejected] == [
        (1, RejectReason.CANCELLED),
        (61, RejectReason.UNPARSEABLE),
    ]
    assert report.rejected[1].message == "task has no data.govflow_item"
    assert _stored(ledger) == sorted(
        (t["data"]["govflow_item"], t["meta"]["annotator"], LABELS[t["id"] % 3]) for t in tasks[:60]
    )
    assert report.rejected[0].annotator == first["meta"]["annotator"]
    assert progress == {
        "round": round_id,
        "assigned": 60,
        "annotated": 60,
        "missing": 0,
        "annotators": {a: {"assigned": 15, "annotated": 15, "missing": 0} for a in ANNOTATORS},
    }


def test_round_progress_counts_missing_work_per_annotator(ledger):
    version_id = _setup(ledger)
    round_id, _ = _open(ledger, version_id)
    rows = sorted(_assignments(ledger, round_id), key=lambda r: (r[1], r[0]))
    done = [r for r in rows if r[1] == "ann1"][:4] + [r for r in rows if r[1] == "ann3"][:1]
    _import(ledger, round_id, "".join(_line(round_id, h, a, "bug") + "\n" for h, a, _ in done))

    with ledger.reader() as session:
        progress = round_progress(session=session, round_id=round_id)

    assert progress == {
        "round": round_id,
        "assigned": 60,
        "annotated": 5,
        "missing": 55,
        "annotators": {
            "ann1": {"assigned": 15, "annotated": 4, "missing": 11},
            "ann2": {"assigned": 15, "annotated": 0, "missing": 15},
            "ann3": {"assigned": 15, "annotated": 1, "missing": 14},
            "ann4": {"assigned": 15, "annotated": 0, "missing": 15},
        },
    }
