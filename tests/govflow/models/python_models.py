"""Functions the Python adapter tests load by ``module:function``."""

from __future__ import annotations

from typing import Any

CALLS: list[int] = []  # batch sizes seen by ``by_keyword``
NOT_A_FUNCTION = 42


def by_keyword(texts: list[str]) -> list[str]:
    CALLS.append(len(texts))
    return ["spam" if "win" in text else "ham" for text in texts]


def with_confidence(texts: list[str]) -> list[Any]:
    return [("spam", 0.75), {"label": "ham", "confidence": 0.5}, {"label": "ham"}][: len(texts)]


def mixed_quality(texts: list[str]) -> list[Any]:
    return ["spam", "eggs", ("ham", 1.5), ("ham", "high"), 7, {"confidence": 0.2}]


def raises(texts: list[str]) -> list[str]:
    raise RuntimeError("model weights not found")


def too_few(texts: list[str]) -> list[str]:
    return ["ham"] * (len(texts) - 1)


def not_a_list(texts: list[str]) -> str:
    return "ham"


class Namespace:
    @staticmethod
    def classify(texts: list[str]) -> list[str]:
        return ["ham"] * len(texts)
