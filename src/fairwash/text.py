"""Showing text that came from outside (a file, a server) without letting it take over a terminal.

:func:`shown` is the one rule: control and other non-printable characters are written as
escapes (so an ANSI sequence or a carriage return cannot rewrite a verdict line), and long
text is cut with a count of what was left out (so a 30 MB cell is not echoed whole).
"""

from __future__ import annotations

from typing import Any

__all__ = ["shown"]


def shown(value: Any, limit: int = 120) -> str:
    """``value`` as printable, bounded text for a message.

    Examples
    --------
    >>> shown("ok\\x1b[2K\\rFAKE")
    'ok\\\\x1b[2K\\\\rFAKE'
    >>> shown("x" * 130, limit=5)
    'xxxxx… (+125 characters)'
    """
    text = str(value)
    cut = text[:limit]
    out = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in cut)
    return out + (f"… (+{len(text) - limit} characters)" if len(text) > limit else "")
