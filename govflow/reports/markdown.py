"""Markdown that keeps data as data: the one escaping function for text govflow did not write.

Forms, reports and artifacts put item content, notes, guideline text, names and reasons into
Markdown. ``md_text`` flattens such text to one line and escapes every character that could
start Markdown syntax (links, images, emphasis, code, headings, tables, raw HTML), so what a
data row or a person typed renders as itself.
"""

from __future__ import annotations

import re

__all__ = ["md_text"]

# Characters that start Markdown syntax anywhere in a line (links, images, emphasis, code,
# headings, tables, raw HTML, strikethrough), and line starts that make lists or rules.
_MARKDOWN = re.compile(r"([\\`*_\[\]#!|<>~])")
_LINE_START = re.compile(r"^([-+=])")
_LIST_NUMBER = re.compile(r"^(\d+)([.)])")


def md_text(text: str) -> str:
    """Escape text for one line of Markdown: every special character renders as itself."""
    flat = _MARKDOWN.sub(r"\\\1", " ".join(str(text).split()))
    return _LIST_NUMBER.sub(r"\1\\\2", _LINE_START.sub(r"\\\1", flat))
