"""inspect_ai logs: real logs written offline by the real package, read without importing it.

The model behind the task is a provider registered with inspect's ``@modelapi`` that answers
from a table. It overrides ``count_text_tokens``: inspect's default counts tokens with
tiktoken's o200k_base, which it downloads at run time, so the built-in ``mockllm/model``
fails offline. Sockets to anything but loopback are refused while the eval runs, to prove
that it needs no network; inspect's data and cache folders point into the test's tmp dir.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest

from govflow.errors import InputError
from govflow.evaluation.inspect_import import inspect_answers, read_inspect_log, score_to_float
from govflow.evaluation.runs import evaluate_suite
from govflow.evaluation.suites import load_evaluation_suite
from govflow.evaluation.thresholds import VerdictStatus

ANSWERS = {
    "I was charged twice for my March invoice.": "billing",
    "The export button shows an error 500 every time I click it.": "bug",
    "Could you add a dark mode to the dashboard?": "bug",
}


def run_inspect(log_dir: Path, *, broken: bool = False) -> Path:
    """Run a three-sample task with the real inspect_ai and return its JSON log."""
    from inspect_ai import Task, eval
    from inspect_ai.dataset import MemoryDataset, Sample
    from inspect_ai.model import (
        ChatMessageSystem,
        ChatMessageUser,
        ModelAPI,
        ModelOutput,
        modelapi,
    )
    from inspect_ai.scorer import match
    from inspect_ai.solver import generate

    @modelapi(name="govflowtable")
    class TableModel(ModelAPI):
        async def generate(self, input, tools, tool_choice, config):  # type: ignore[no-untyped-def]
            if self.model_name == "broken":
                raise RuntimeError("the table has no answer for this text")
            return ModelOutput.from_content(
                model=self.model_name, content=ANSWERS.get(input[-1].text, "other")
            )

        async def count_text_tokens(self, text: str) -> int:
            return len(text.split())

    samples = [
        Sample(id="T1", input="I was charged twice for my March invoice.", target="billing"),
        Sample(
            id="T2",
            input="The export button shows an error 500 every time I click it.",
            target="bug",
        ),
        Sample(
            id="T3",
            input=[
                ChatMessageSystem(content="Answer with one intent label."),
                ChatMessageUser(content="Could you add a dark mode to the dashboard?"),
            ],
            target="feature_request",
        ),
    ]
    task = Task(
        dataset=MemoryDataset(samples, name="support-intent-routine", location="ledger:ds-42"),
        solver=[generate()],
        scorer=match(),
        name="support-intent",
    )
    logs = eval(
        task,
        model="govflowtable/broken" if broken else "govflowtable/table-v1",
        log_format="json",
        log_dir=str(log_dir),
        display="none",
        retry_on_error=0,
    )
    return Path(logs[0].location)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    home = tmp_path_factory.mktemp("inspect-home")
    real_connect = socket.socket.connect

    def loopback_only(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            if host not in ("127.0.0.1", "::1", "localhost"):
                raise OSError(f"network access refused in this test: {host}")
        return real_connect(self, address)

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(home / "data"))
        patch.setenv("XDG_CACHE_HOME", str(home / "cache"))
        patch.setattr(socket.socket, "connect", loopback_only)
        good = run_inspect(tmp_path_factory.mktemp("inspect-logs"))
        broken = run_inspect(tmp_path_factory.mktemp("inspect-error-logs"), broken=True)
    return {"good": good, "broken": broken}


def edited(logs: dict[str, Path], tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    document = json.loads(logs["good"].read_text())
    change(document)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_real_inspect_log_reads_as_an_evaluation_run(logs: dict[str, Path]):
    run = read_inspect_log(logs["good"])

    assert (run.task, run.model, run.status, run.scorer) == (
        "support-intent",
        "govflowtable/table-v1",
        "success",
        "match",
    )
    assert (run.dataset_name, run.dataset_location, run.dataset_samples) == (
        "support-intent-routine",
        "ledger:ds-42",
        3,
    )
    assert run.metrics["match/accuracy"] == pytest.approx(2 / 3)
    assert set(run.metrics) == {"match/accuracy", "match/stderr"}
    assert [(s.id, s.input, s.target, s.answer, s.score, s.score_value) for s in run.samples] == [
        ("T1", "I was charged twice for my March invoice.", "billing", "billing", 1.0, "C"),
        (
            "T2",
            "The export button shows an error 500 every time I click it.",
            "bug",
            "bug",
            1.0,
            "C",
        ),
        (
            "T3",
            "Could you add a dark mode to the dashboard?",
            "feature_request",
            "bug",
            0.0,
            "I",
        ),
    ]
    assert all(s.error is None and s.epoch == 1 for s in run.samples)
    assert len(run.content_hash) == 64
    assert run.eval_id and run.run_id and run.created


def test_importing_does_not_import_inspect_ai(logs: dict[str, Path]):
    import subprocess
    import sys

    code = (
        "import sys; from govflow.evaluation.inspect_import import read_inspect_log; "
        f"read_inspect_log({str(logs['good'])!r}); "
        "print('inspect_ai' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "False"


def test_a_log_of_a_failed_run_is_one_input_error(logs: dict[str, Path]):
    with pytest.raises(InputError) as caught:
        read_inspect_log(logs["broken"])

    assert str(caught.value) == (
        f"{logs['broken']}: inspect run ended with an error: "
        "RuntimeError('the table has no answer for this text')"
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda d: d.update(status="cancelled"),
            "inspect run has status 'cancelled': only complete (success) runs are imported",
        ),
        (
            lambda d: d.pop("samples"),
            "inspect log has no samples (run inspect with log_samples enabled, its default)",
        ),
        (lambda d: d["eval"].pop("model"), "inspect log lacks eval.model"),
        (lambda d: d["eval"].pop("dataset"), "inspect log lacks eval.dataset"),
        (lambda d: d.pop("results"), "inspect log lacks results"),
        (lambda d: d["samples"][1].pop("target"), "inspect log lacks samples[1].target"),
        (
            lambda d: d.update(version=9),
            "inspect log format version 9 is not supported (supported: 2)",
        ),
    ],
)
def test_an_incomplete_or_unfinished_log_is_one_input_error(
    logs: dict[str, Path], tmp_path: Path, change, problem: str
):
    path = edited(logs, tmp_path, change)

    with pytest.raises(InputError) as caught:
        read_inspect_log(path)

    assert str(caught.value) == f"{path}: {problem}"


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("other.json", '{"rows": [1, 2]}', "not an inspect eval log (no version, status and eval)"),
        (
            "broken.json",
            '{"version": 2,',
            "not an inspect eval log: not valid JSON (Expecting property name enclosed in "
            "double quotes at line 1)",
        ),
        (
            "run.eval",
            "PK",
            "inspect's binary .eval log format is not read here (run inspect with "
            "log_format='json', or convert: inspect log convert --to json)",
        ),
    ],
)
def test_a_file_that_is_not_an_inspect_json_log_is_one_input_error(
    tmp_path: Path, name: str, content: str, problem: str
):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    with pytest.raises(InputError) as caught:
        read_inspect_log(path)

    assert str(caught.value) == f"{path}: {problem}"


def test_score_values_convert_as_inspect_does():
    from inspect_ai.scorer import value_to_float

    to_float = value_to_float()
    for value in ["C", "I", "P", "N", "yes", "No", "TRUE", "false", "0.25", 3, True, 0.7]:
        assert score_to_float(value) == to_float(value), value
    # Where inspect would log a warning and return 0, govflow keeps no number at all.
    assert score_to_float("maybe") is None
    assert score_to_float([1, 0]) is None


def test_an_inspect_run_meets_the_same_thresholds_as_govflow_runs(
    logs: dict[str, Path], tmp_path: Path
):
    suite_file = tmp_path / "inspected.yaml"
    suite_file.write_text(
        "project: inspected\n"
        "labels: [billing, bug, account, feature_request, other]\n"
        "max_error_rate: 0.0\n"
        "slices:\n"
        "  - name: routine\n"
        "    kind: routine\n"
        "    min_samples: 3\n"
        "    metrics: [accuracy, error_rate]\n"
        "    thresholds:\n"
        "      accuracy: {floor: 0.9}\n",
        encoding="utf-8",
    )
    run = read_inspect_log(logs["good"])

    truth, answers = inspect_answers(run)
    evaluation = evaluate_suite(
        load_evaluation_suite(suite_file),
        truth={"routine": truth},
        candidate={"routine": answers},
        model=run.model,
    )

    assert truth == ["billing", "bug", "feature_request"]
    assert answers["label"].tolist() == ["billing", "bug", "bug"]
    verdict = evaluation.slice("routine").verdict
    assert verdict.status == VerdictStatus.FAILED
    assert verdict.reasons == ("accuracy 0.667 below floor 0.9",)


def test_the_cli_imports_an_inspect_log_once_and_lists_it_with_the_model(
    logs: dict[str, Path], run_cli, govflow_env
):
    from govflow.ledger.engine import Ledger
    from govflow.ledger.model_versions import register_model_version

    ledger = Ledger.open(govflow_env["GOVFLOW_DATABASE_URL"])
    with ledger.session() as session:
        register_model_version(
            session=session,
            version_id="mv-outside",
            project="support-intent",
            adapter="openai-chat",
            spec={"adapter": "openai-chat"},
            seed=0,
            training_version_id=None,
            label_set=["billing", "bug", "account", "feature_request", "other"],
            artifact=None,
            details={},
            flow_run_id=None,
            actor="t",
        )
    ledger.dispose()

    first = run_cli(
        "evaluations", "import-inspect", str(logs["good"]), "--model-version", "mv-outside"
    )
    again = run_cli(
        "evaluations", "import-inspect", str(logs["good"]), "--model-version", "mv-outside"
    )
    unknown = run_cli("evaluations", "import-inspect", str(logs["good"]), "--model-version", "mv-x")
    wrong_slice = run_cli(
        "evaluations",
        "import-inspect",
        str(logs["good"]),
        "--model-version",
        "mv-outside",
        "--slice",
        "nope",
    )
    listed = json.loads(run_cli("evaluations", "list", "mv-outside", "--json").out)
    models = json.loads(run_cli("models", "list", "--json").out)
    no_aliases = run_cli("models", "aliases")

    assert first.code == 0, first.err
    # Three samples, two right: fewer than the routine slice's min_samples.
    assert re.fullmatch(r"evaluation run ev-[0-9a-f]{24}: insufficient_evidence\n", first.out)
    assert again.out == first.out
    assert unknown.code == 4
    assert unknown.err == "Error: model version 'mv-x' not found (run `govflow models list`)\n"
    assert wrong_slice.code == 2
    assert wrong_slice.err == (
        "Error: suite support-intent has no slice 'nope': "
        "['routine', 'edge_cases', 'adversarial', 'policy']\n"
    )
    assert [(r["id"], r["source"], r["status"]) for r in listed] == [
        (first.out.split()[2].rstrip(":"), "inspect_ai", "insufficient_evidence")
    ]
    assert [(m["id"], m["adapter"], m["aliases"]) for m in models] == [
        ("mv-outside", "openai-chat", [])
    ]
    assert no_aliases.out == "no aliases yet: a release promotes a model to production\n"
