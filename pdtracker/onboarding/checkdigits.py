"""Check digits of Chinese identifiers: credit codes and resident ID numbers.

Pure functions. Both checksums catch every single changed character: their
moduli (31 and 11) are prime and no weight is a multiple of them.
"""

from __future__ import annotations

import re
import unicodedata

# GB 32100-2015: 31 characters (no I, O, Z, S, V), weights 3^i mod 31.
CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_RE = re.compile(f"[{CREDIT_CHARSET}]{{18}}")

# GB 11643-1999 (ISO 7064 MOD 11-2): weights 2^(17-i) mod 11; check 0-9 or X.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECKS = "10X98765432"
_ID_RE = re.compile(r"\d{17}[\dX]")


def clean_code(value: str) -> str:
    """Half-width, upper case, without spaces: how codes are compared and stored."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def credit_check_char(first17: str) -> str:
    """The 18th character of a credit code whose first 17 are given."""
    total = sum(
        CREDIT_CHARSET.index(c) * w
        for c, w in zip(first17, CREDIT_WEIGHTS, strict=True)
    )
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def is_credit_code(value: str) -> bool:
    """A well-formed 统一社会信用代码 whose check character is right (already cleaned)."""
    return (
        bool(_CREDIT_RE.fullmatch(value)) and credit_check_char(value[:17]) == value[17]
    )


def id_check_char(first17: str) -> str:
    """The 18th character of a resident ID number whose first 17 digits are given."""
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECKS[total % 11]


def is_id_number(value: str) -> bool:
    """A well-formed 18-character 身份证号 whose check character is right (cleaned)."""
    return bool(_ID_RE.fullmatch(value)) and id_check_char(value[:17]) == value[17]
