"""Showing text that came from outside (a file, a server) without letting it take over a terminal.

:func:`shown` is the one rule: control and other non-printable characters are written as
escapes (so an ANSI sequence or a carriage return cannot rewrite a verdict line), and long
text is cut with a count of what was left out (so a 30 MB cell is not echoed whole).
:func:`quoted` is the same text between quotes (a column name or value inside a message),
:func:`shown_list` a bounded list of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["shown", "quoted", "shown_list", "MESSAGE_LIMIT"]

#: Longest message (characters) the command line prints for one error.
MESSAGE_LIMIT = 4000


def shown(value: Any, limit: int = 120, *, newlines: bool = False) -> str:
    """``value`` as printable, bounded text for a message.

    Parameters
    ----------
    value : any
        Converted with ``str``.
    limit : int
        Characters kept; the rest is replaced by a count.
    newlines : bool
        Keep line feeds (a whole message of several lines); every other control
        character is still escaped.

    Examples
    --------
    >>> shown("ok\\x1b[2K\\rFAKE")
    'ok\\\\x1b[2K\\\\rFAKE'
    >>> shown("x" * 130, limit=5)
    'xxxxx… (+125 characters)'
    """
    text = str(value)
    cut = text[:limit]
    out = "".join(c if c.isprintable() or (newlines and c == "\n")
                  else c.encode("unicode_escape").decode("ascii") for c in cut)
    return out + (f"… (+{len(text) - limit} characters)" if len(text) > limit else "")


def quoted(value: Any, limit: int = 120) -> str:
    """:func:`shown` between single quotes, for a name or value inside a sentence.

    Examples
    --------
    >>> quoted("sex\\n")
    "'sex\\\\n'"
    """
    return f"'{shown(value, limit)}'"


def shown_list(values: Iterable[Any], limit: int = 20, each: int = 80) -> str:
    """``[a, b, ...]`` of at most ``limit`` :func:`quoted` items (and how many were left out).

    Examples
    --------
    >>> shown_list(["a", "b\\x1b", "c"], limit=2)
    "['a', 'b\\\\x1b', ... (1 more)]"
    """
    items = list(values)
    body = ", ".join(quoted(v, each) for v in items[:limit])
    more = f", ... ({len(items) - limit} more)" if len(items) > limit else ""
    return f"[{body}{more}]"
