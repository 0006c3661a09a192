"""Reading what a card button sends back: every value is the presser's to choose.

An Adaptive Card's submit data comes back as JSON written by the client, so anyone can send any
value under any key. These helpers accept only what a card of ours could have sent: whole numbers
(never a bool, a float, an infinity or NaN, never a 40-digit string) within bounds, and short
strings. Anything else reads as None, and the handler answers as for a button it does not know.
"""

from __future__ import annotations

import re
from typing import Any

# Row ids are database integers; nothing of ours comes near this.
MAX_ID = 2**31 - 1
MAX_TEXT = 500

_DIGITS = re.compile(r"[0-9]{1,10}")


def card_int(value: Any, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """A whole number from card data, within [low, high]; None for anything else."""
    if isinstance(value, bool):  # True is an int in Python, never in our cards
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())  # Input.Number and ChoiceSet values arrive as strings
    else:
        return None
    return number if low <= number <= high else None


def card_id(value: Any) -> int | None:
    """A row id: a positive whole number."""
    return card_int(value, low=1, high=MAX_ID)


def card_text(value: Any, *, max_length: int = MAX_TEXT) -> str | None:
    """A short string from card data, without NUL; None for anything else."""
    if not isinstance(value, str) or len(value) > max_length or "\x00" in value:
        return None
    return value
