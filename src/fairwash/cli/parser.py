"""The ``fairwash`` argument parser: the program's description and one subcommand per module."""

from __future__ import annotations

import argparse

from fairwash.cli import attack, check, risk, twins
from fairwash.cli.options import Formatter, debug_option

__all__ = ["build_parser"]

_MAIN_DESCRIPTION = """\
fairwash: audit Disparate Impact the way a supervisory authority should.

An auditee asked to prove that its model does not discriminate sends a sample of
its decisions. It may have chosen that sample to look fair ("fairwashing"). The
paper "Exposing the Illusion of Fairness" gives the authority two defences: test
the submitted sample against the full data with a combination of tests, and
demand a sample large enough that no manipulation hides. These commands apply
them to your own files (CSV or parquet).

Disparate Impact (DI) = P(Ŷ=1 | S=0) / P(Ŷ=1 | S=1), S = 0 the disadvantaged
group; DI >= 0.8 is the usual compliance threshold.
"""

_MAIN_EPILOG = """\
exit status:
  0  success (check: the sample is representative)
  1  check: the sample is rejected (membership or the DI test; --protocol paper: a test)
  2  bad input: unreadable file, unknown column, ambiguous rule, bad option
  3  unexpected internal error (rerun with --debug to see the traceback)

examples:
  fairwash check --full decisions.csv --sample submitted.csv \\
      --sensitive sex --s0 Female --outcome approved
  fairwash check --help

Run "fairwash COMMAND --help" for each command's inputs, outputs and examples.
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``fairwash`` argument parser (subcommands check, risk, twins, attack)."""
    from fairwash import __version__  # the package's own __init__: importing it at the top is circular

    parser = argparse.ArgumentParser(prog="fairwash", description=_MAIN_DESCRIPTION, epilog=_MAIN_EPILOG,
                                     formatter_class=Formatter)
    parser.add_argument("--version", action="version", version=f"fairwash {__version__}")
    debug_option(parser, default=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    sub.required = True
    for command in (check, risk, twins, attack):
        command.register(sub)
    return parser
