import os
import subprocess
import sys

from govflow.ledger.audit import count_events
from govflow.ledger.datasets import count_items, get_version
from govflow.ledger.engine import Ledger


def _run_demo(env):
    return subprocess.run(
        [sys.executable, "-m", "demo.run"], capture_output=True, text=True, env=env, timeout=300
    )


def test_demo_registers_sample_and_is_safe_to_rerun(govflow_env):
    env = os.environ | govflow_env

    first = _run_demo(env)
    second = _run_demo(env)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    version_id = first.stdout.splitlines()[-1].removeprefix(
        "done: demo/data/support_tickets.jsonl is dataset version "
    )
    assert version_id.startswith("dv-")
    assert second.stdout.splitlines()[-1].endswith(f"dataset version {version_id}")
    assert f"ledger: {govflow_env['GOVFLOW_DATABASE_URL']}" in first.stdout
    assert "registered support-tickets [raw]: 300 rows" in first.stderr
    assert "already registered support-tickets [raw]: 300 rows" in second.stderr
    assert "audit chain intact: 1 events" in second.stdout
    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.reader() as session:
        assert get_version(session=session, version_id=version_id).row_count == 300
        assert count_items(session=session, version_id=version_id) == 300
        assert count_events(session=session) == 1
    ledger.dispose()


def test_sample_generator_is_deterministic(tmp_path):
    from demo.generate_sample import OUT, generate

    lines = [line for line in OUT.read_text(encoding="utf-8").splitlines() if line]
    regenerated = generate()

    assert len(lines) == 300
    import json

    assert [json.loads(line) for line in lines] == regenerated
