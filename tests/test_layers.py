"""The package's layers: imports go downward only, and every deferred import says why.

The layers, top to bottom (docs/architecture.md draws them)::

    cli, pipeline                  the two faces: parse / read files, call one function, render / write
    protocol, twins, store,        the audit protocol, the twin audit, artefacts, tables and figures
      results, tables, figures
    detect, manipulate, model,     the statistics, the attacks, the audited model and its resolver
      models, hub
    data, fairness                 data sets and the fairness metrics
    catalogue, io, seeding,        names and rules, atomic files, seeds, progress bars, the paper's numbers
      progress, paper_values

A module may import from its own layer or below, never from above (``twins`` may use the
plotting style of ``figures.style``, a leaf). A function-local ``import`` is allowed only
with a comment on its line or the line above saying why it is deferred (an optional or
heavy dependency, a start-up cost).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "fairwash"

LAYERS: dict[str, int] = {
    "cli": 4, "pipeline": 4,
    "protocol": 3, "twins": 3, "store": 3, "results": 3, "tables": 3, "figures": 3,
    "inputs": 3, "resume": 3, "audit_report": 3,
    "detect": 2, "manipulate": 2, "model": 2, "models": 2, "hub": 2,
    "data": 1, "fairness": 1,
    "catalogue": 0, "io": 0, "seeding": 0, "progress": 0, "paper_values": 0, "plotting": 0, "text": 0,
    "errors": 0,
    "_pot": 0,
}
#: Downward exceptions: (importing top-level part, imported module prefix).
ALLOWED: set[tuple[str, str]] = set()


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _part(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    return rel.parts[0]


def _imports(tree: ast.AST) -> list[tuple[int, str, bool]]:
    """(line, imported fairwash module, inside a function?) for every import of fairwash."""
    out = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                out.append((child.lineno, child.module, inner))
            elif isinstance(child, ast.Import):
                out.extend((child.lineno, a.name, inner) for a in child.names)
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # annotations only: never executed
            visit(child, inner)

    visit(tree, False)
    return out


def test_every_module_has_a_layer():
    parts = {_part(p) for p in _modules() if p.name != "__init__.py" or p.parent != SRC}
    assert parts <= set(LAYERS), sorted(parts - set(LAYERS))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(SRC).as_posix())
def test_imports_go_downward(path):
    if path.parent == SRC and path.name == "__init__.py":
        return
    me = _part(path)
    wrong = []
    for line, mod, _ in _imports(ast.parse(path.read_text())):
        if not mod.startswith("fairwash."):
            continue
        other = mod.split(".")[1]
        if other in LAYERS and LAYERS[other] > LAYERS[me]:
            if not any(me == a and mod.startswith(b) for a, b in ALLOWED):
                wrong.append(f"line {line}: {me} (layer {LAYERS[me]}) imports {mod} (layer {LAYERS[other]})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(SRC).as_posix())
def test_deferred_imports_state_why(path):
    lines = path.read_text().splitlines()
    silent = []
    for line, mod, local in _imports(ast.parse("\n".join(lines))):
        if not local:
            continue
        # a comment on the line, or above the block of imports the line belongs to
        above = line - 2
        while above >= 0 and lines[above].strip().startswith(("from ", "import ")) \
                and "#" not in lines[above]:
            above -= 1
        stated = "#" in lines[line - 1] or (above >= 0 and "#" in lines[above]
                                            and lines[above].strip().startswith(("#", "from ", "import ")))
        if not stated:
            silent.append(f"line {line}: import of {mod} inside a function, no reason stated")
    assert not silent, "\n".join(silent)
