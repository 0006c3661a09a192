"""Cutting text into tokens: numbers, words, "14:30", "5/9", "13-15", punctuation."""

from __future__ import annotations

import re
from dataclasses import dataclass

from scheduler.when.vocabulary import _fold

# ---------------------------------------------------------------------------------------------
# Tokens

_TOKEN = re.compile(
    r"""
    (?P<iso>(?<!\d)\d{4}-\d{1,2}-\d{1,2}(?!\d))
  | (?P<slash>(?<![\d/])\d{1,2}/\d{1,2}(?:/\d{2}(?:\d{2})?)?(?![\d/]))
  | (?P<dotdate>(?<![\d.])\d{1,2}\.\d{1,2}\.\d{4}(?!\d))
  | (?P<about>(?<!\d)\d{1,2}\ ?-?\ ?tiden)
  | (?P<ampm>(?<![\d.:])\d{1,2}(?:[.:]\d{2})?\ ?(?:a\.m\.|p\.m\.|am|pm)(?!\w))
  | (?P<range>(?<![\d.:/-])\d{1,2}(?:[.:]\d{2})?\ *[-–—]\ *\d{1,2}(?:[.:]\d{2})?(?![\d/]))
  | (?P<hm>(?<![\d.:])\d{1,2}[.:]\d{2}(?![\d]|[.:]\d))
  | (?P<ord>(?<!\d)\d{1,2}(?::[ae]|st|nd|rd|th)(?!\w))
  | (?P<vnum>(?<!\w)[vw]\d{1,2}(?!\d))
  | (?P<num>\d+(?:,\d+)?)
  | (?P<word>[^\W\d_]+)
  | (?P<punct>\S)
    """,
    re.VERBOSE,
)
_CLOCK = re.compile(r"(\d{1,2})(?:[.:](\d{2}))?")
_RANGE_SPLIT = re.compile(r"\s*[-–—]\s*")
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?)])")
_EDGE_PUNCT = " ,;:-–—"
_DOUBLE_PUNCT = re.compile(r"([,;])(?:\s*[,;])+")
_SLOT_SEPARATORS = re.compile(r"[;\n]|,(?!\d)|\s+eller\s+|\s+samt\s+")


@dataclass(frozen=True)
class _Token:
    kind: str
    raw: str  # original text
    low: str  # lower case
    word: str  # folded, for comparisons
    start: int
    end: int


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        raw = match.group()
        low = raw.lower()
        tokens.append(_Token(kind, raw, low, _fold(raw), match.start(), match.end()))
    return tokens
