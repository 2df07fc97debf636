"""The error a user's input raises: light, so that any module may raise it without loading pandas."""

from __future__ import annotations

__all__ = ["DataError"]


class DataError(ValueError):
    """Raised for input that cannot become a valid :class:`~fairwash.data.base.AuditData`.

    The message always names the data set, the column or file, and the value.
    """
