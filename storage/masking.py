"""Personal data out of free text before it is kept: identity numbers, phone numbers, e-mail."""

from __future__ import annotations

import re

PERSONAL_NUMBER = "[personnummer]"
PHONE_NUMBER = "[telefonnummer]"
EMAIL_ADDRESS = "[e-post]"

# Personnummer and samordningsnummer: (yy)yymmdd, - or + (100 years or older), four digits.
# Masked whether or not the check digit is right: a mistyped number is still personal. Written
# without the separator, 07xxxxxxxx is as likely a mobile number: phone numbers are masked first.
_DATE = r"(?<![\d-])(?:19|20)?\d{2}[01]\d[0-9]\d"
_PERSONAL_NUMBER = re.compile(_DATE + r"\s?[-+]\s?\d{4}(?![\d-])")
_PERSONAL_NUMBER_BARE = re.compile(_DATE + r"\d{4}(?![\d-])")
# Swedish phone numbers: 0 or +46/0046, then 6-11 more digits, with spaces, dashes or brackets.
_PHONE_NUMBER = re.compile(r"(?<![\w+(])\(?(?:\+46|0046|0)(?:[\s\-()]*\d){6,11}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def mask_personal_data(text: str) -> str:
    """The text with identity numbers, phone numbers and e-mail addresses replaced."""
    text = _EMAIL.sub(EMAIL_ADDRESS, text)
    text = _PERSONAL_NUMBER.sub(PERSONAL_NUMBER, text)
    text = _PHONE_NUMBER.sub(PHONE_NUMBER, text)
    return _PERSONAL_NUMBER_BARE.sub(PERSONAL_NUMBER, text)
