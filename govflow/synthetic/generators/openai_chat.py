"""The HTTP generator: any OpenAI-compatible chat-completions endpoint, over httpx.

One request per row, at most ``concurrency`` in flight. The prompt is a versioned
``string.Template`` with ``$label``, ``$examples`` (seed texts, one per line) and
``$instructions``; its hash goes into every row's provenance. Timeouts and 429/5xx answers
are retried ``retries`` times with a short backoff. A request that still fails, or an answer
without a usable text, is a rejected row with the reason; when more than ``max_error_rate``
of the requests fail, the generator fails as a whole (``GenerationFailed``), so a hanging
endpoint registers nothing. The API key is read from the environment variable the plan
names, never from the plan itself.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from string import Template
from typing import Any

import httpx

from govflow.errors import GenerationFailed
from govflow.hashing import sha256_text
from govflow.models.openai_chat import api_headers
from govflow.synthetic.plan import GeneratorSpec
from govflow.synthetic.rows import Generated, Provenance, RejectedRow, SeedItem, SyntheticRow

__all__ = ["CHAT_GENERATOR_VERSION", "DEFAULT_PROMPT", "ChatGenerator"]

CHAT_GENERATOR_VERSION = "1"
DEFAULT_PROMPT = (
    "Write one new customer message whose intent is $label. It must read like a real "
    "message, must not copy the examples, and must hold no names, e-mail addresses or "
    "phone numbers.\n$instructions\nExamples of $label:\n$examples\n"
    "Answer with the message only."
)
_BACKOFF_S = 0.2


class _Failed(Exception):
    pass


class ChatGenerator:
    version = CHAT_GENERATOR_VERSION

    def __init__(self, spec: GeneratorSpec, *, config_hash: str) -> None:
        self._spec = spec
        self.name = f"openai-chat:{spec.model}"
        self._config_hash = config_hash
        self._template = Template(spec.prompt or DEFAULT_PROMPT)
        self._headers = api_headers(api_key_env=spec.api_key_env, base_url=str(spec.base_url))

    def generate(self, label: str, n: int, seeds: Sequence[SeedItem], seed: int) -> Generated:
        spec = self._spec
        ordered = sorted(seeds, key=lambda s: s.item_hash)[: spec.examples_per_prompt]
        prompt = self._template.safe_substitute(
            label=label,
            examples="\n".join(f"- {s.text}" for s in ordered),
            instructions=spec.instructions,
        )
        provenance = Provenance(
            generator=self.name,
            generator_version=f"{self.version}/prompt-{spec.prompt_version}",
            config_hash=self._config_hash,
            seed=seed,
            prompt_hash=sha256_text(prompt),
            seed_items=tuple(s.item_hash for s in ordered),
        )
        limits = httpx.Limits(max_connections=spec.concurrency)
        with (
            httpx.Client(
                timeout=httpx.Timeout(spec.timeout_s), limits=limits, headers=self._headers
            ) as client,
            ThreadPoolExecutor(max_workers=spec.concurrency) as pool,
        ):
            answers = list(
                pool.map(lambda i: self._ask(client, prompt, seed * 1_000_003 + i), range(n))
            )
        rows, rejected = [], []
        for answer in answers:
            if isinstance(answer, str):
                rows.append(SyntheticRow(text=answer, label=label, provenance=provenance))
            else:
                rejected.append(RejectedRow(label=label, reason=answer[0], returned=answer[1]))
        failed = [r for r in rejected if r.reason.startswith("request failed")]
        if n and len(failed) / n > spec.max_error_rate:
            top, _ = Counter(r.reason for r in failed).most_common(1)[0]
            raise GenerationFailed(
                self.name, f"{len(failed)} of {n} requests failed (most often {top!r})"
            )
        return Generated(rows=rows, rejected=rejected, requested=n)

    def _ask(self, client: httpx.Client, prompt: str, row_seed: int) -> str | tuple[str, str]:
        spec = self._spec
        payload = {
            "model": spec.model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": 1.0,
            "seed": row_seed,
        }
        url = spec.base_url.rstrip("/") + "/chat/completions"  # type: ignore[union-attr]
        attempts = spec.retries + 1
        reason = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(_BACKOFF_S * 2 ** (attempt - 1))
            try:
                response = client.post(url, json=payload)
            except httpx.TimeoutException:
                reason = f"timed out after {attempts} attempts"
                continue
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__} after {attempts} attempts"
                continue
            if response.status_code == 429 or response.status_code >= 500:
                reason = f"HTTP {response.status_code} after {attempts} attempts"
                continue
            if response.status_code >= 400:
                return (f"request failed: HTTP {response.status_code}", response.text[:200])
            return _read(response)
        return (f"request failed: {reason}", "")


def _read(response: httpx.Response) -> str | tuple[str, str]:
    try:
        body: Any = response.json()
        text = body["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return ("malformed answer: no choices[0].message.content", response.text[:200])
    if not isinstance(text, str) or not text.strip():
        return ("malformed answer: empty message", repr(text)[:200])
    return " ".join(text.split())
