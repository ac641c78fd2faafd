import json

from govflow.domain import SyntheticStatus
from govflow.ledger.engine import Ledger
from govflow.ledger.synthetic import record_spot_check
from tests.govflow.ledger.test_synthetic import _record, _versions


def _seed(url: str) -> None:
    ledger = Ledger.open(url)
    with ledger.session() as session:
        organic, generated, hashes = _versions(session)
        _record(session, organic, generated, hashes)
        record_spot_check(
            session=session,
            batch_id="sb-1",
            review_task_id="rt-9",
            choices={0: ("accept", "rita"), 2: ("wrong_label", "rita")},
            rejected_positions=[],
            status=SyntheticStatus.QUARANTINED,
            reason="spot-check found a defect: row 2 judged wrong_label by rita",
            actor="t",
        )
    ledger.dispose()


def test_synthetic_list_and_show(run_cli, govflow_env):
    empty = run_cli("synthetic", "list")
    _seed(govflow_env["GOVFLOW_DATABASE_URL"])
    listed = run_cli("synthetic", "list", "--project", "p")
    shown = run_cli("synthetic", "show", "sb-1")
    as_json = run_cli("synthetic", "show", "sb-1", "--json")
    missing = run_cli("synthetic", "show", "sb-nope")

    assert empty.out == "no synthetic batches yet (make one with the synthesize deployment)\n"
    assert listed.out.splitlines() == [
        "ID                           STATUS       MADE  PASSED  ACCEPTED  GENERATOR",
        "sb-1                         quarantined     3       2         0  template (seed 3)",
    ]
    lines = shown.out.splitlines()
    assert lines[0] == (
        "sb-1  p  [quarantined]  spot-check found a defect: row 2 judged wrong_label by rita"
    )
    assert lines[2] == "  rows: 3 requested, 3 made, 2 passed the checks, 0 accepted"
    assert lines[-3:] == [
        "    0  x                passed  accept (rita)         no        o1,o2",
        "    1  x                failed  -                     no        o1,o2",
        "    2  x                passed  wrong_label (rita)    no        o1,o2",
    ]
    data = json.loads(as_json.out)
    assert [i["spot_check"] for i in data["items"]] == ["accept", None, "wrong_label"]
    assert data["items"][2]["predicted_label"] == "y"
    assert missing.code == 4
    assert missing.err == (
        "Error: synthetic batch 'sb-nope' not found (list batches: govflow synthetic list)\n"
    )
