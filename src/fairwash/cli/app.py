"""``fairwash``'s entry point: parse, run one command, map errors to exit codes (never a traceback
for a user's mistake)."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

from fairwash.cli.options import EXIT_INTERNAL, EXIT_USAGE
from fairwash.cli.parser import build_parser
from fairwash.errors import DataError
from fairwash.text import MESSAGE_LIMIT, shown

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``fairwash`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 0 after --help / --version, 2 on a usage error
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    args.argv = list(sys.argv[1:] if argv is None else argv)  # the exact command, for a report
    debug = bool(getattr(args, "debug", False))
    try:
        return int(args.func(args, sys.stdout))
    except (DataError, ValueError) as exc:  # DataError, ModelError are ValueErrors: the user's input
        if debug:
            raise
        print(f"fairwash: error: {shown(exc, MESSAGE_LIMIT, newlines=True)}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        if debug:
            raise
        text = f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
        print(f"fairwash: error: {shown(text, MESSAGE_LIMIT, newlines=True)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("fairwash: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            traceback.print_exc()
        else:
            what = shown(exc, MESSAGE_LIMIT, newlines=True)
            print(f"fairwash: internal error: {type(exc).__name__}: {what}\n"
                  "(this is a bug, not a problem with your files; rerun with --debug for the traceback)",
                  file=sys.stderr)
        return EXIT_INTERNAL

