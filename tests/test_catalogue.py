"""One home for each fact: test names, method names, 0.8 and fraction → m live in the catalogue.

The guard scans the project's own sources: a tuple, list or set literal holding two or
more test or method names (a second list of them) anywhere but ``fairwash/catalogue.py``
fails, as do the Grad-family rule written out (``startswith("Grad")``), a literal
``0.8`` used as a value, a fraction turned into ``m`` by hand, and a ``*_DEFAULTS`` table
of config defaults (their home is ``config/schema.yaml``). Per-name registries of code
or style (a runner or a colour per method) are allowed where listed below, and must name
exactly the catalogue's methods.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fairwash import catalogue

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "fairwash"
NAMES = set(catalogue.TESTS) | set(catalogue.METHODS)

#: Modules that hold one entry per method by design (its code, its style, the paper's printed
#: tables), checked against the catalogue below instead of being refused.
REGISTRIES = {
    "manipulate/__init__.py": "the runner of each method",
    "figures/style.py": "the colour and marker of each method",
    "paper_values.py": "the column order of the paper's printed tables (a transcription)",
    "detect/context.py": "the statistic of each test",
}


def _python_sources() -> list[Path]:
    files = [*SRC.rglob("*.py"), *(REPO / "scripts").glob("*.py")]
    return sorted(p for p in files if p.name != "catalogue.py")


def _name_lists(tree: ast.AST) -> list[tuple[int, list[str]]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            names = [e.value for e in node.elts if isinstance(e, ast.Constant) and e.value in NAMES]
            if len(names) >= 2:
                out.append((node.lineno, names))
    return out


def _is_08(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is float and node.value == 0.8


def _threshold_literals(node: ast.AST) -> list[str]:
    """Names given 0.8 as a default or keyword (``target=0.8``), or compared with 0.8."""
    hits = []
    if isinstance(node, ast.FunctionDef):
        a = node.args
        pos = [*a.posonlyargs, *a.args]
        pairs = [*zip(pos[len(pos) - len(a.defaults):], a.defaults, strict=True),
                 *zip(a.kwonlyargs, a.kw_defaults, strict=True)]
        hits += [arg.arg for arg, d in pairs if _is_08(d)]
    elif isinstance(node, ast.Call):
        hits += [k.arg for k in node.keywords if _is_08(k.value) and k.arg in ("target", "tau", "threshold")]
    elif isinstance(node, ast.Compare) and any(_is_08(c) for c in (node.left, *node.comparators)):
        hits.append("a comparison")
    return hits


def _violations(path: Path) -> list[str]:
    rel = path.relative_to(SRC).as_posix() if path.is_relative_to(SRC) else path.name
    text = path.read_text()
    tree = ast.parse(text)
    found = []
    if rel not in REGISTRIES:
        found += [f"{rel}:{line}: a list of names {names}" for line, names in _name_lists(tree)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "startswith" and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and arg.value == "Grad":
                found.append(f"{rel}:{node.lineno}: the Grad family rule written out")
        found += [f"{rel}:{node.lineno}: a literal 0.8 as {name} (use catalogue.COMPLIANCE_THRESHOLD)"
                  for name in _threshold_literals(node)]
    for i, line in enumerate(text.splitlines(), 1):
        if re.search(r"round\(\s*\w*fraction\w*\s*\*|round\(\s*f\s*\*\s*n", line):
            found.append(f"{rel}:{i}: a fraction turned into m by hand (use catalogue.sample_size)")
        if re.match(r"^[A-Z_]*DEFAULTS\b.*=", line):
            found.append(f"{rel}:{i}: a table of defaults (their home is config/schema.yaml)")
    return found


def test_no_name_list_default_or_rule_outside_the_catalogue():
    problems = [v for p in _python_sources() for v in _violations(p)]
    assert not problems, "\n".join(problems)


def test_workflow_files_define_no_names_or_defaults():
    files = [REPO / "Snakefile", *(REPO / "workflow" / "rules").glob("*.smk")]
    problems = []
    for path in files:
        for i, line in enumerate(path.read_text().splitlines(), 1):
            quoted = set(re.findall(r'"([A-Za-z_0-9]+)"', line)) & NAMES
            if len(quoted) >= 2:
                problems.append(f"{path.name}:{i}: names {sorted(quoted)}")
            if re.match(r"^[A-Z_]*DEFAULTS\s*=\s*\{", line):
                problems.append(f"{path.name}:{i}: a table of defaults")
            if 'startswith("Grad")' in line or "round(f *" in line:
                problems.append(f"{path.name}:{i}: a rule of the catalogue written out")
    assert not problems, "\n".join(problems)


def test_the_guard_catches_a_second_list(tmp_path):
    """The guard is not vacuous: a planted copy of the test list and of a default table fail it."""
    planted = SRC / "_planted_for_test.py"
    planted.write_text('TESTS = ("KS", "KL_A")\nBATTERY_DEFAULTS = {"n_draws": 99}\n'
                       'def f(di, target=0.8):\n    return di >= 0.8\n')
    try:
        found = _violations(planted)
    finally:
        planted.unlink()
    assert len(found) == 4, found


@pytest.mark.parametrize("module", sorted(REGISTRIES))
def test_registries_name_exactly_the_catalogue(module):
    if module == "manipulate/__init__.py":
        from fairwash.manipulate import _RUNNERS, METHODS

        assert list(_RUNNERS) == list(catalogue.METHODS) == list(METHODS)
    elif module == "figures/style.py":
        from fairwash.figures import METHOD_STYLES

        assert list(METHOD_STYLES) == list(catalogue.METHODS)
    elif module == "detect/context.py":
        from fairwash.detect.context import STATISTICS

        assert list(STATISTICS) == list(catalogue.TESTS)
    else:
        from fairwash import paper_values

        used = {m for (_, m, _) in paper_values.VALUES if m}
        assert used <= set(catalogue.METHODS), used - set(catalogue.METHODS)


def test_schema_names_and_defaults_agree_with_the_catalogue():
    schema = yaml.safe_load((REPO / "config" / "schema.yaml").read_text())
    defs = schema["$defs"]
    assert defs["methods"]["items"]["enum"] == list(catalogue.METHODS)
    assert defs["battery"]["properties"]["tests_ablation"]["items"]["enum"] == list(catalogue.TESTS)
    # a method without options needs no entry there
    assert set(defs["method_options"]["properties"]) <= {catalogue.options_key(m) for m in catalogue.METHODS}


def test_catalogue_facts():
    assert catalogue.TESTS == ("KS", "KL_A", "KL_P", "W_A", "W_P", "MMD_A", "MMD_P")
    assert catalogue.NO_MMD == ("KS", "KL_A", "KL_P", "W_A", "W_P")
    assert catalogue.CELL_TESTS == ("KL_P", "W_P", "MMD_P")
    assert catalogue.COST_ORDER == ("KL_P", "W_P", "MMD_P", "KS", "KL_A", "MMD_A", "W_A")
    assert [m for m in catalogue.METHODS if catalogue.METHOD_SPECS[m].needs_model] == [
        "Grad_p", "Grad_b", "Grad_p_1D", "Grad_b_1D"]
    assert all(catalogue.METHOD_SPECS[m].keeps_rows for m in catalogue.ROW_PRESERVING_METHODS)
    assert catalogue.options_key("Grad_b_1D") == "Grad" and catalogue.options_key("SBS") == "SBS"
    assert [catalogue.sample_size(f, 5000) for f in (0.025, 0.1, 0.2, 1.0)] == [125, 500, 1000, 5000]
    with pytest.raises(ValueError, match="unknown test"):
        catalogue.check_tests(["KS", "W_X"])
    with pytest.raises(ValueError, match="empty"):
        catalogue.check_tests([])
    with pytest.raises(ValueError, match="fraction"):
        catalogue.sample_size(0.0, 10)


@pytest.mark.parametrize(("module", "heavy"), [
    ("fairwash.catalogue", ("torch", "ot", "scipy")),
    ("fairwash.cli", ("torch", "ot", "scipy")),
])
def test_catalogue_and_cli_import_neither_torch_nor_pot(module, heavy):
    code = f"import sys, {module}; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_module_imports():
    """The guard parses sources; this makes sure they also import (no stale names after a move)."""
    for path in sorted(SRC.rglob("*.py")):
        mod = ".".join(("fairwash", *path.relative_to(SRC).with_suffix("").parts))
        importlib.import_module(mod.removesuffix(".__init__"))


def test_library_defaults_agree_with_the_schema():
    """Where a library function has a default for a pipeline setting, it is the schema's value, so the
    two homes can never disagree silently (they did: epochs 1 in the schema, 3 in train_mlp)."""
    from fairwash.model import fit_audited_model, train_mlp  # torch: only this test needs it

    schema = yaml.safe_load((REPO / "config" / "schema.yaml").read_text())
    model_defaults = {k: v["default"] for k, v in schema["$defs"]["model"]["properties"].items()}
    for fn in (fit_audited_model, train_mlp):
        params = inspect.signature(fn).parameters
        for key, value in model_defaults.items():
            if key in params:
                assert params[key].default == value, (fn.__name__, key, params[key].default, value)
