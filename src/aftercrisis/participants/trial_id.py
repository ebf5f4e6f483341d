"""Trial identifiers: site prefix, sequence number and a check character, e.g. ``CAM-0042-7``.

The check character is Luhn mod 36 over the site code and number, so any single mistyped
character, and any swap of two neighbouring digits, is caught when an identifier is typed in.
"""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_N = len(ALPHABET)
PATTERN = re.compile(r"^(?P<site>[A-Z]{2,4})-(?P<number>\d{4,6})-(?P<check>[0-9A-Z])$")


def check_character(payload: str) -> str:
    """Luhn mod N check character for a string over ALPHABET."""
    total = 0
    factor = 2
    for char in reversed(payload):
        addend = factor * ALPHABET.index(char)
        total += addend // _N + addend % _N
        factor = 1 if factor == 2 else 2
    return ALPHABET[(_N - total % _N) % _N]


def format_trial_id(site_code: str, number: int) -> str:
    if not re.fullmatch(r"[A-Z]{2,4}", site_code):
        raise ValueError(f"site code {site_code!r} must be 2 to 4 capital letters")
    if not 1 <= number <= 999_999:
        raise ValueError(f"sequence number {number} is outside 1 to 999999")
    digits = f"{number:04d}"
    return f"{site_code}-{digits}-{check_character(site_code + digits)}"


def is_valid_trial_id(text: str) -> bool:
    match = PATTERN.match(text)
    if match is None:
        return False
    return check_character(match["site"] + match["number"]) == match["check"]
