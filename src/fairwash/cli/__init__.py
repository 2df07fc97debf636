"""The ``fairwash`` command line for auditors (issue 7).

Subcommands::

    fairwash check   is a submitted audit sample representative of the full data? (the battery)
    fairwash risk    how fair could a fairwashed sample of this size look, undetected?
    fairwash twins   the counterfactual-twin audit of a model
    fairwash attack  write a deliberately manipulated sample (red-team exercises)

Exit status: 0 success (``check``: the sample is representative), 1 ``check`` rejects
the sample, 2 bad input (unreadable file, unknown column, ambiguous rule, bad option),
3 an unexpected internal error (rerun with ``--debug`` for the traceback).

Only this package prints.  Heavy libraries (torch, POT) are imported inside the
subcommands so that ``fairwash --help`` and input errors answer at once.

Layout: :mod:`~fairwash.cli.parser` (the parser), one module per command
(:mod:`~fairwash.cli.check`, :mod:`~fairwash.cli.risk`, :mod:`~fairwash.cli.twins`,
:mod:`~fairwash.cli.attack`: its help, its options and ``cmd_*``), :mod:`~fairwash.cli.render`
(printing), :mod:`~fairwash.cli.options` (shared options, exit codes), :mod:`~fairwash.cli.app`
(``main``).
"""

from fairwash.catalogue import ROW_PRESERVING_METHODS as ATTACK_METHODS
from fairwash.catalogue import TESTS
from fairwash.cli.app import main
from fairwash.cli.attack import REDTEAM_BANNER, attack_rows
from fairwash.cli.common import cache_dir_default
from fairwash.cli.options import EXIT_INTERNAL, EXIT_OK, EXIT_REJECTED, EXIT_USAGE
from fairwash.cli.parser import build_parser

__all__ = ["main", "build_parser", "cache_dir_default", "attack_rows", "EXIT_OK",
           "EXIT_REJECTED", "EXIT_USAGE", "EXIT_INTERNAL", "TESTS", "ATTACK_METHODS", "REDTEAM_BANNER"]
