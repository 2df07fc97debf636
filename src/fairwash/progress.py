"""When to draw progress bars: in a terminal, never in a log or on CI."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any, TypeVar

__all__ = ["show_progress", "progress_bar"]

T = TypeVar("T")


def show_progress(progress: bool | None = None) -> bool:
    """Whether a long loop should draw a bar.

    Parameters
    ----------
    progress : bool or None
        ``False``: never. ``True`` or ``None``: when standard error is a terminal and the
        ``CI`` environment variable is unset or empty, so a log file (every Snakemake job
        writes its stderr to one) and a CI transcript stay free of bar redraws.
    """
    if progress is False:
        return False
    return bool(getattr(sys.stderr, "isatty", lambda: False)()) and not os.environ.get("CI")


def progress_bar(iterable: Iterable[T], *, progress: bool | None = None, **tqdm_kwargs: Any) -> Iterable[T]:
    """``iterable`` wrapped in a tqdm bar when :func:`show_progress` allows it, else unchanged."""
    if not show_progress(progress):
        return iterable
    from tqdm.auto import tqdm  # only when a bar is shown

    return tqdm(iterable, **tqdm_kwargs)
