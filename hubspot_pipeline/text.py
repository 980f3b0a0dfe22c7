"""Text that UTF-8 cannot encode, made writable: lone UTF-16 surrogates become U+FFFD.

HubSpot's JSON may hold a `\\ud800`-style escape with no partner (a value cut in the middle of an
emoji, a client that wrote UTF-16 halves). Python decodes it to a lone surrogate, which Arrow,
Parquet and the UTF-8 CSV all refuse, so one such value would fail a whole sync or table. Every
place where outside text enters the pipeline (the client's JSON, the writer's rows) replaces them
here and counts what it replaced. This module imports nothing of the pipeline.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
# in JSON text: a \\u escape of a surrogate (a pair decodes to one character, so only a lone one is
# left after decoding; this only decides whether decoded strings need a look at all)
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def might_hold_surrogates(json_text: bytes) -> bool:
    """Whether JSON text has a surrogate escape (cheap: one C scan of the bytes)."""
    return _ESCAPED_SURROGATE.search(json_text) is not None


def clean(value: str) -> tuple[str, int]:
    """`value` with each lone surrogate replaced by U+FFFD, and how many were replaced."""
    return _SURROGATE.subn(REPLACEMENT, value)


def clean_json(value: Any) -> tuple[Any, int]:
    """A decoded JSON value with every string (keys included) cleaned; the replacements made."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        items = [clean_json(v) for v in value]
        return [v for v, _ in items], sum(n for _, n in items)
    if isinstance(value, dict):
        total, out = 0, {}
        for key, item in value.items():
            key, n = clean(key)
            item, m = clean_json(item)
            out[key] = item
            total += n + m
        return out, total
    return value, 0
