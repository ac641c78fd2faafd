import os
import subprocess
import sys
from pathlib import Path

import pytest

from govflow.errors import ConfigError, GenerationFailed
from govflow.synthetic.generators import build_generator
from govflow.synthetic.generators.template import TemplateGenerator
from govflow.synthetic.plan import GeneratorSpec
from govflow.synthetic.rows import SeedItem
from tests.govflow.models.chat_server import ChatServer, Reply

ROOT = Path(__file__).resolve().parents[3]
SEEDS = [
    SeedItem("h1", "Hi, I was charged twice for my March invoice. Thanks, Priya", "billing"),
    SeedItem("h2", "Can I get a refund for May? The app was down for a week.", "billing"),
    SeedItem("h3", "Why did the price of my Team plan go up? Regards, Jon", "billing"),
]


def test_template_rows_carry_provenance_and_the_intended_label():
    out = TemplateGenerator(config_hash="c" * 64).generate("billing", 12, SEEDS, seed=3)
    assert out.requested == 12
    assert len(out.rows) == 12
    assert out.rejected == []
    for row in out.rows:
        assert row.label == "billing"
        assert row.provenance.generator == "template"
        assert row.provenance.config_hash == "c" * 64
        assert row.provenance.seed == 3
        assert set(row.provenance.seed_items) <= {"h1", "h2", "h3"}
        assert "frame" in row.provenance.operations
    assert len({row.text for row in out.rows}) >= 10


def test_template_is_independent_of_seed_order_and_changes_with_the_seed():
    gen = TemplateGenerator(config_hash="c")
    first = [r.text for r in gen.generate("billing", 8, SEEDS, seed=1).rows]
    reordered = [r.text for r in gen.generate("billing", 8, SEEDS[::-1], seed=1).rows]
    other = [r.text for r in gen.generate("billing", 8, SEEDS, seed=2).rows]
    assert first == reordered
    assert first != other


def test_template_is_the_same_in_processes_with_different_hash_seeds():
    code = (
        "from govflow.synthetic.generators.template import TemplateGenerator\n"
        "from tests.govflow.synthetic.test_generators import SEEDS\n"
        "print([r.text for r in TemplateGenerator(config_hash='c')"
        ".generate('billing', 6, SEEDS, seed=5).rows])\n"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        env = os.environ | {"PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_template_without_seeds_fails_as_a_whole():
    with pytest.raises(GenerationFailed) as err:
        TemplateGenerator(config_hash="c").generate("billing", 3, [], seed=0)
    assert (
        str(err.value)
        == "generator template failed: no seed items of class 'billing' to start from"
    )


def generate_rows(*, label, n, seeds, seed):
    return [f"{label} row {i} from {len(seeds)} seeds" for i in range(n - 6)] + [
        None,
        "",
        "  ",
        42,
        {"text": ""},
        {"body": "x"},
    ]


def broken(**kwargs):
    raise RuntimeError("model offline")


def not_a_list(**kwargs):
    return "one text"


def test_python_generator_keeps_good_items_and_rejects_malformed_ones():
    spec = GeneratorSpec(kind="python", entrypoint=f"{__name__}:generate_rows")
    out = build_generator(spec, config_hash="c").generate("billing", 7, SEEDS, seed=0)
    assert [r.text for r in out.rows] == ["billing row 0 from 3 seeds"]
    assert out.rows[0].provenance.generator == f"python:{__name__}:generate_rows"
    assert out.rows[0].provenance.seed_items == ("h1", "h2", "h3")
    assert [r.returned for r in out.rejected] == [
        "None",
        "''",
        "'  '",
        "42",
        "{'text': ''}",
        "{'body': 'x'}",
    ]
    assert {r.reason for r in out.rejected} == {"not a text or a mapping with a non-empty 'text'"}


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ("broken", "raised RuntimeError: model offline"),
        ("not_a_list", "returned str, not a list of texts"),
    ],
)
def test_python_generator_failure_is_one_error(function, message):
    spec = GeneratorSpec(kind="python", entrypoint=f"{__name__}:{function}")
    with pytest.raises(GenerationFailed) as err:
        build_generator(spec, config_hash="c").generate("billing", 2, SEEDS, seed=0)
    assert str(err.value) == f"generator python:{__name__}:{function} failed: {message}"


def chat_spec(url: str, **overrides) -> GeneratorSpec:
    values = {
        "kind": "openai-chat",
        "base_url": url,
        "model": "gen-1",
        "api_key_env": "GEN_KEY",
        "concurrency": 2,
        "retries": 1,
        "timeout_s": 0.3,
    } | overrides
    return GeneratorSpec(**values)


def test_chat_generator_sends_the_versioned_prompt_with_the_key(monkeypatch):
    monkeypatch.setenv("GEN_KEY", "sk-test")
    with ChatServer({}, default=Reply(content="  My invoice is wrong,\nplease fix it. ")) as server:
        out = build_generator(chat_spec(server.base_url), config_hash="c").generate(
            "billing", 5, SEEDS, seed=1
        )
    assert [r.text for r in out.rows] == ["My invoice is wrong, please fix it."] * 5
    headers, body = server.requests[0]
    assert headers["Authorization"] == "Bearer sk-test"
    assert body["model"] == "gen-1"
    prompt = body["messages"][0]["content"]
    assert prompt.startswith("Write one new customer message whose intent is billing.")
    assert "- Hi, I was charged twice for my March invoice. Thanks, Priya" in prompt
    assert sorted(b["seed"] for _, b in server.requests) == [1_000_003 + i for i in range(5)]
    provenance = out.rows[0].provenance
    assert provenance.generator == "openai-chat:gen-1"
    assert provenance.generator_version == "1/prompt-1"
    assert provenance.prompt_hash is not None and len(provenance.prompt_hash) == 64
    assert server.max_in_flight <= 2


def test_chat_generator_rejects_malformed_answers_and_tolerates_few_errors(monkeypatch):
    monkeypatch.setenv("GEN_KEY", "k")
    script_default = Reply(content="fine text")
    with ChatServer({}, default=script_default) as server:
        # The prompt is the same for every row: the script answers by attempt number.
        gen = build_generator(
            chat_spec(server.base_url, retries=0, concurrency=1, max_error_rate=0.5),
            config_hash="c",
        )
        first = gen.generate("billing", 1, SEEDS, seed=0)
        prompt_key = server.requests[0][1]["messages"][0]["content"]
        server.attempts.clear()
        server.script = {
            prompt_key: [
                Reply(status=503),
                Reply(raw_body="{}"),
                Reply(content="  "),
                Reply(content="ok text"),
            ]
        }
        out = gen.generate("billing", 5, SEEDS, seed=0)
    assert [r.text for r in first.rows] == ["fine text"]
    assert [r.text for r in out.rows] == ["ok text", "ok text"]
    assert [r.reason for r in out.rejected] == [
        "request failed: HTTP 503 after 1 attempts",
        "malformed answer: no choices[0].message.content",
        "malformed answer: empty message",
    ]


def test_hanging_endpoint_fails_the_generator_after_retries(monkeypatch):
    monkeypatch.setenv("GEN_KEY", "k")
    with ChatServer({}, default=Reply(content="late", delay_s=1.0)) as server:
        gen = build_generator(chat_spec(server.base_url, timeout_s=0.2), config_hash="c")
        with pytest.raises(GenerationFailed) as err:
            gen.generate("billing", 2, SEEDS, seed=0)
    assert str(err.value) == (
        "generator openai-chat:gen-1 failed: 2 of 2 requests failed "
        "(most often 'request failed: timed out after 2 attempts')"
    )


def test_chat_generator_without_its_key_is_a_config_error(monkeypatch):
    monkeypatch.delenv("GEN_KEY", raising=False)
    with pytest.raises(ConfigError, match="environment variable GEN_KEY is not set"):
        build_generator(chat_spec("http://127.0.0.1:9/v1"), config_hash="c")
