import json

from sqlalchemy import select

from govflow.ledger.datasets import prepare_items, register_dataset_version
from govflow.ledger.engine import Ledger
from govflow.ledger.models import Annotation, Assignment, GuidelineVersion, Person
from govflow.ledger.rounds import open_round

RECORDS = [{"text": f"ticket {i}"} for i in range(6)]


def _open_round(url):
    """Register six items, a guideline and two annotators; open a round; return it and rows."""
    ledger = Ledger.open(url)
    with ledger.session() as session:
        version = register_dataset_version(
            session=session, name="tickets", stage="raw", items=prepare_items(RECORDS), actor="t"
        ).version
        session.add(
            GuidelineVersion(
                id="gl-1",
                project="support",
                version=1,
                label_set=["bug", "billing"],
                is_ordinal=False,
                text="Label the ticket.",
                examples=[],
                changelog="first",
                status="published",
                content_hash="0" * 64,
                created_by="test",
            )
        )
        session.add_all(Person(id=p, display_name=p, roles=["annotator"]) for p in ("alice", "bob"))
        session.flush()
        found, _ = open_round(
            session=session,
            project="support",
            dataset_version_id=version.id,
            guideline_version_id="gl-1",
            overlap=1,
            gold_rate=0.0,
            actor="lead",
        )
        round_id = found.id
    with ledger.reader() as session:
        rows = session.execute(
            select(Assignment.item_hash, Assignment.annotator_id)
            .where(Assignment.round_id == round_id)
            .order_by(Assignment.annotator_id, Assignment.item_hash)
        ).all()
    ledger.dispose()
    return round_id, rows


def _line(round_id, item, annotator, label):
    return json.dumps({"round": round_id, "item": item, "annotator": annotator, "label": label})


def test_import_prints_counts_and_each_rejection_and_exits_1(run_cli, tmp_path, govflow_env):
    round_id, rows = _open_round(govflow_env["GOVFLOW_DATABASE_URL"])
    (h0, a0), (h1, a1) = rows[0], rows[1]
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        "\n".join(
            [
                _line(round_id, h0, a0, "bug"),
                _line(round_id, h1, a1, "maybe"),
                "oops",
                _line(round_id, h1, "carol", "bug"),
            ]
        )
        + "\n",
        encoding="utf-8",
    )

    first = run_cli("annotations", "import", str(labels), "--round", round_id)
    again = run_cli("annotations", "import", str(labels), "--round", round_id)
    progress = run_cli("annotations", "progress", "--round", round_id)

    rejections = (
        f"line 2: item {h1[:12]}…: label 'maybe' is not in the guideline's label set\n"
        "line 3: not valid JSON: Expecting value\n"
        f"line 4: item {h1[:12]}…: unknown annotator 'carol'\n"
    )
    assert (first.code, first.err) == (1, "")
    assert first.out == "accepted 1, already recorded 0, rejected 3\n" + rejections
    assert (again.code, again.out) == (
        1,
        "accepted 0, already recorded 1, rejected 3\n" + rejections,
    )
    assert progress.code == 0
    assert progress.out == (
        "ANNOTATOR  ASSIGNED  ANNOTATED  MISSING\n"
        "alice             3          1        2\n"
        "bob               3          0        3\n"
        "total             6          1        5\n"
    )
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.reader() as session:
        stored = session.execute(
            select(Annotation.item_hash, Annotation.annotator_id, Annotation.label)
        ).all()
    ledger.dispose()
    assert stored == [(h0, a0, "bug")]


def test_import_without_rejections_exits_0(run_cli, tmp_path, govflow_env):
    round_id, rows = _open_round(govflow_env["GOVFLOW_DATABASE_URL"])
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(_line(round_id, h, a, "bug") + "\n" for h, a in rows))

    result = run_cli("annotations", "import", str(labels), "--round", round_id)

    assert (result.code, result.out, result.err) == (
        0,
        "accepted 6, already recorded 0, rejected 0\n",
        "",
    )


def test_import_of_an_unreadable_file_exits_2(run_cli, tmp_path, govflow_env):
    round_id, _ = _open_round(govflow_env["GOVFLOW_DATABASE_URL"])
    missing = tmp_path / "nope.jsonl"

    result = run_cli("annotations", "import", str(missing), "--round", round_id)

    assert (result.code, result.out) == (2, "")
    assert result.err == f"Error: {missing}: cannot read: No such file or directory\n"


def test_export_to_a_file_writes_the_tasks_and_says_where(run_cli, tmp_path, govflow_env):
    round_id, rows = _open_round(govflow_env["GOVFLOW_DATABASE_URL"])
    jsonl = tmp_path / "alice.jsonl"
    studio = tmp_path / "tasks.json"

    first = run_cli(
        "annotations", "export", "--round", round_id, "--annotator", "alice", "--out", str(jsonl)
    )
    second = run_cli(
        "annotations",
        "export",
        "--round",
        round_id,
        "--format",
        "label-studio",
        "--out",
        str(studio),
    )
    unknown = run_cli("annotations", "export", "--round", "ar-missing")

    by_item = dict(zip(prepare_items(RECORDS).hashes, RECORDS, strict=True))
    assert (first.code, first.err) == (0, "")
    assert first.out == f"wrote 3 assignments of round {round_id} to {jsonl}\n"
    assert [json.loads(line) for line in jsonl.read_text().splitlines()] == [
        {"round": round_id, "item": h, "annotator": a, "data": by_item[h]}
        for h, a in rows
        if a == "alice"
    ]
    assert second.out == f"wrote 6 assignments of round {round_id} to {studio}\n"
    assert json.loads(studio.read_text()) == [
        {
            "id": n,
            "data": {**by_item[h], "govflow_item": h, "govflow_round": round_id},
            "meta": {"annotator": a},
        }
        for n, (h, a) in enumerate(rows, start=1)
    ]
    assert (unknown.code, unknown.out) == (4, "")
    assert unknown.err == "Error: annotation round 'ar-missing' not found\n"
