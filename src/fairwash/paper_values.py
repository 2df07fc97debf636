r"""The figures the paper reports, in one place, keyed by (data set, method, quantity).

Every value is transcribed from the paper's text (``illusion-of-fairness-paper.txt``, a PDF
extraction) *as printed*: ``"0.10"`` keeps its two decimals, ``"1"`` stays ``"1"`` and
``"–"`` is the paper's own dash (Tables 3, 15: no undetected sample at any level).
A key that is absent means the paper gives no figure there; :func:`lookup` then returns
``""`` (an empty cell), never ``"–"``.

Data sets carry the paper's names (``ADULT``, ``INC``, ``TRA``, ``MOB``, ``EMP``, ``PUC``,
``BAF``); methods carry fairwash's names (``Grad_p``, ``Grad_b``, ``Grad_p_1D``, ``Grad_b_1D``,
``Replace``, ``Entropic_b``, ``Entropic_p``, ``Matching``, ``SBS``). A quantity that does
not depend on the data set (Table 8) has data set ``""``; one that does not depend on the
method (Table 1) has method ``""``.

Reading the extraction
----------------------
The extraction drops every cell that held only mathematics (the Matching method's name
:math:`\mathcal{M}_W`, the :math:`\infty` of a divergent KL, the checkmarks of Table 2) and
pads the row with empty cells at its end. Hence:

* Table 1's header lost its empty corner cell: the names ``Adult INC TRA MOB BAF EMP PUC``
  are in order and the DI row maps one to one (the authors' ``DI.npy`` agrees: 0.2999,
  0.6733, 0.6926, 0.4470, 0.3467, 0.3034, 0.3162).
* Tables 4 and 11–14 print the header ``... Rep | Entr_b | Entr_p | (empty)`` but their values
  are in the order Replace, **Matching**, Entropic_b, Entropic_p: in Table 12 Entropic_b equals
  Grad_b and Entropic_p equals Grad_p on all seven data sets (the same target cell masses),
  which holds only in that order. Table 4 (Adult, with SBS first) repeats the Adult rows
  of Tables 11, 12, 13, 14 as its rows 1–4.
* Table 13 prints three values per data set: the divergent KL of Grad and Replace (moved
  points) were lost with their :math:`\infty`; the three are Matching, Entropic_b,
  Entropic_p (Table 14's last three repeat them, as they should for Entropic).
* Tables 3 and 15 keep Matching last (the header order): it is the column that follows the
  authors' ``Highest_DI.npy`` (Matching) on MOB, PUC, TRA and BAF.
* Table 2's grid (checkmarks) is lost entirely; the entries here come from its discussion in
  Section 7: "Methods modifying individual characteristics (Grad methods) are easily
  detected [...] regardless of the sampling size. The fairwashing done by the
  :math:`\mathcal{M}_W` and Entropic-based methods is undetected for the INC, TRA and BAF
  datasets." Every other cell is left empty.
* Tables 8 and 10 lost their bounds in mathematics (e.g. Replace "… minutes"); ``…`` marks
  each lost piece.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from fairwash.catalogue import PAPER_METHODS

__all__ = ["DATASETS", "METHODS", "QUANTITIES", "VALUES", "lookup", "as_float", "source_of"]

#: The paper's seven data sets (Table 1 order).
DATASETS = ("ADULT", "INC", "TRA", "MOB", "BAF", "EMP", "PUC")
#: fairwash's names of the paper's methods (and SBS, Appendix 0.B).
METHODS = PAPER_METHODS

#: quantity -> where the paper reports it.
QUANTITIES = {
    "S": "Table 1 (sensitive attribute)",
    "DI": "Table 1 (DI of the model on the audited set)",
    "accuracy": "Appendix 0.D (test accuracy of the model)",
    "detection": "Table 2, as stated in Section 7 (the table's marks are lost in the text)",
    "fairest@10": "Table 3 (fairest undetected DI, 7 tests, sample = 10 % of n; SBS: Table 5)",
    "fairest@20": "Table 3 (fairest undetected DI, 7 tests, sample = 20 % of n; SBS: Table 5)",
    "fairest_no_mmd@10": "Table 15 (fairest undetected DI without MMD, 10 % of n)",
    "fairest_no_mmd@20": "Table 15 (fairest undetected DI without MMD, 20 % of n)",
    "W": "Table 11 (Wasserstein distance of Q from the original; SBS: Table 4 row 1)",
    "W_T12": "Table 12 (second Wasserstein table of Appendix 0.L.1; SBS: Table 4 row 2)",
    "KL": "Table 13 (KL divergence; SBS: Table 4 row 3)",
    "KL_T14": "Table 14 (second KL table of Appendix 0.L.2; SBS: Table 4 row 4)",
    "time": "Table 8 (computation time of the method)",
    "time remedy": "Table 8 (the paper's 'Solution' column)",
    "memory": "Table 10 (memory cost of the method)",
    "memory remedy": "Table 10 (the paper's 'Solution' column)",
}


def _grid(quantity: str, methods: Iterable[str], rows: dict[str, str]) -> dict[tuple[str, str, str], str]:
    """One printed table: data set -> its row of cells (space separated, in ``methods`` order)."""
    methods = tuple(methods)
    out = {}
    for ds, row in rows.items():
        cells = row.split()
        if len(cells) != len(methods):
            raise ValueError(f"{quantity} {ds}: {len(cells)} cells for {len(methods)} methods")
        out.update({(ds, m, quantity): c for m, c in zip(methods, cells, strict=True)})
    return out


_T3_ORDER = ("Grad_p", "Grad_b", "Grad_p_1D", "Grad_b_1D", "Replace", "Entropic_b", "Entropic_p", "Matching")
_T15_ORDER = ("Replace", "Entropic_b", "Entropic_p", "Matching")
# Tables 4, 11-14: Matching's values follow Replace's (see the module docstring).
_T11_ORDER = ("Grad_p", "Grad_b", "Grad_p_1D", "Grad_b_1D", "Replace", "Matching", "Entropic_b", "Entropic_p")
_T13_ORDER = ("Matching", "Entropic_b", "Entropic_p")

VALUES: dict[tuple[str, str, str], str] = {}

# Table 1: sensitive attribute and DI of the model per data set.
VALUES.update(_grid("S", ("",), {"ADULT": "Sex", "INC": "Sex", "TRA": "Sex", "MOB": "Age", "BAF": "Age",
                                 "EMP": "Disability", "PUC": "Disability"}))
VALUES.update(_grid("DI", ("",), {"ADULT": "0.30", "INC": "0.67", "TRA": "0.69", "MOB": "0.45", "BAF": "0.35",
                                  "EMP": "0.30", "PUC": "0.32"}))
# Appendix 0.D: predictive accuracies (84 %, 77 %, ...), as fractions.
VALUES.update(_grid("accuracy", ("",), {"ADULT": "0.84", "EMP": "0.77", "INC": "0.88", "MOB": "0.84",
                                        "PUC": "0.73", "TRA": "0.72", "BAF": "0.98"}))

# Table 2, from Section 7's discussion of it (see the module docstring).
VALUES.update({(ds, m, "detection"): "detected" for ds in DATASETS
               for m in ("Grad_p", "Grad_b", "Grad_p_1D", "Grad_b_1D")})
VALUES.update({(ds, m, "detection"): "undetected" for ds in ("INC", "TRA", "BAF")
               for m in ("Matching", "Entropic_b", "Entropic_p")})

# Table 3: fairest undetected DI with the seven tests.
VALUES.update(_grid("fairest@10", _T3_ORDER, {
    "ADULT": "0.47 0.43 0.49 0.44 0.50 0.54 0.52 0.54",
    "EMP": "– – – – – 0.36 0.36 0.37",
    "INC": "0.75 – – – 0.88 0.94 0.95 0.93",
    "MOB": "0.53 0.51 – 0.50 0.53 0.52 – 0.52",
    "PUC": "– – – – – 0.33 0.35 0.35",
    "TRA": "0.72 0.79 0.77 0.73 0.80 0.83 0.84 0.85",
    "BAF": "– – – – – 1 1 1",
}))
VALUES.update(_grid("fairest@20", _T3_ORDER, {
    "ADULT": "0.39 0.40 0.38 0.39 0.41 0.42 0.41 0.42",
    "EMP": "– – – – – 0.34 0.36 0.35",
    "INC": "– – – – 0.83 0.83 0.84 0.84",
    "MOB": "– – – 0.48 0.50 0.50 – 0.50",
    "PUC": "– – – – – – – –",
    "TRA": "– – – – 0.77 0.79 0.79 0.80",
    "BAF": "– – – – – 0.77 0.80 0.79",
}))
# Table 5 (Appendix 0.B.2): SBS on Adult, beside the Table 3 row it repeats.
VALUES.update({("ADULT", "SBS", "fairest@10"): "0.47", ("ADULT", "SBS", "fairest@20"): "–"})

# Table 15: the same without the two MMD tests (the printed differences with Table 3 dropped).
VALUES.update(_grid("fairest_no_mmd@10", _T15_ORDER, {
    "ADULT": "0.45 0.53 0.55 0.54", "EMP": "– 0.38 0.39 0.39", "INC": "0.88 0.95 0.95 0.95",
    "MOB": "0.54 0.53 0.51 0.55", "PUC": "– 0.36 0.36 0.35", "TRA": "0.76 0.84 0.84 0.84",
    "BAF": "– 1 1 1",
}))
VALUES.update(_grid("fairest_no_mmd@20", _T15_ORDER, {
    "ADULT": "0.38 0.43 0.42 0.43", "EMP": "– 0.36 0.35 0.36", "INC": "0.83 0.84 0.84 0.84",
    "MOB": "0.48 0.50 0.49 0.50", "PUC": "– – – –", "TRA": "0.71 0.80 0.80 0.81",
    "BAF": "– 0.83 0.84 0.85",
}))

# Table 11: Wasserstein distance of each manipulation from the original.
VALUES.update(_grid("W", _T11_ORDER, {
    "ADULT": "0.10 0.08 0.13 0.09 0.05 0.06 0.28 0.35",
    "EMP": "0.18 0.10 0.18 0.10 0.06 0.08 0.22 0.37",
    "INC": "0.01 0.01 0.01 0.01 0.01 0.01 0.01 0.01",
    "MOB": "0.21 0.06 0.23 0.08 0.03 0.05 0.18 0.64",
    "PUC": "0.21 0.13 0.22 0.14 0.12 0.16 0.33 0.48",
    "TRA": "0.02 0.02 0.02 0.02 0.01 0.01 0.03 0.03",
    "BAF": "0.01 0.00 0.02 0.01 0.00 0.01 0.02 0.05",
}))
# Table 12: the second Wasserstein table (its caption is lost in the text).
VALUES.update(_grid("W_T12", _T11_ORDER, {
    "ADULT": "0.09 0.08 0.09 0.08 0.05 0.05 0.08 0.09",
    "EMP": "0.18 0.10 0.18 0.10 0.06 0.06 0.10 0.18",
    "INC": "0.01 0.01 0.01 0.01 0.01 0.01 0.01 0.01",
    "MOB": "0.18 0.06 0.18 0.06 0.03 0.03 0.06 0.18",
    "PUC": "0.21 0.13 0.21 0.13 0.12 0.10 0.13 0.21",
    "TRA": "0.02 0.02 0.02 0.02 0.01 0.01 0.02 0.02",
    "BAF": "0.01 0.00 0.01 0.00 0.00 0.00 0.00 0.00",
}))
# Table 13: KL divergence; Grad and Replace (infinite) lost in the text.
VALUES.update(_grid("KL", _T13_ORDER, {
    "ADULT": "0.03 0.02 0.03", "EMP": "0.04 0.04 0.07", "INC": "0.00 0.00 0.00", "MOB": "0.02 0.03 0.17",
    "PUC": "0.06 0.07 0.10", "TRA": "0.00 0.00 0.00", "BAF": "0.00 0.00 0.00",
}))
# Table 14: the second KL table (its caption is lost in the text).
VALUES.update(_grid("KL_T14", _T11_ORDER, {
    "ADULT": "0.02 0.02 0.02 0.02 0.03 0.03 0.02 0.03",
    "EMP": "0.06 0.03 0.06 0.03 0.04 0.04 0.04 0.07",
    "INC": "0.00 0.00 0.00 0.00 0.00 0.00 0.00 0.00",
    "MOB": "0.12 0.03 0.12 0.03 0.02 0.02 0.03 0.17",
    "PUC": "0.09 0.06 0.09 0.06 0.08 0.07 0.07 0.10",
    "TRA": "0.00 0.00 0.00 0.00 0.00 0.00 0.00 0.00",
    "BAF": "0.00 0.00 0.00 0.00 0.00 0.00 0.00 0.00",
}))
# Table 4 (Appendix 0.B.2): SBS on Adult; its other cells repeat Tables 11-14's Adult rows.
VALUES.update({("ADULT", "SBS", "W"): "0.91", ("ADULT", "SBS", "W_T12"): "0.00",
               ("ADULT", "SBS", "KL"): "0.73", ("ADULT", "SBS", "KL_T14"): "0.73"})

# Table 8: computation time of each method ("Summary" and "Solution" columns).
_T8 = {
    "Matching": ("3–10 minutes", "Trade-off possible"),
    "Replace": ("… minutes", "Trade-off possible"),
    "Entropic_b": ("… minutes", ""),
    "Entropic_p": ("… minutes", ""),
    "Grad_p": ("3–15 minutes, depends on … and NN architecture", "Trade-off possible"),
    "Grad_b": ("3–15 minutes, depends on … and NN architecture", "Trade-off possible"),
    "Grad_p_1D": ("3–20 minutes, depends on … and NN architecture", "Trade-off possible"),
    "Grad_b_1D": ("3–20 minutes, depends on … and NN architecture", "Trade-off possible"),
}
# Table 10: memory cost.
_T10 = {
    "Matching": ("… distance matrix", ""),
    "Replace": ("Negligible", "Trade-off possible"),
    "Entropic_b": ("Negligible", ""),
    "Entropic_p": ("Negligible", ""),
    **{g: ("NN gradient to compute on … at worse on … ind", "Batch approach")
       for g in ("Grad_p", "Grad_b", "Grad_p_1D", "Grad_b_1D")},
}
for _m, (_summary, _solution) in _T8.items():
    VALUES[("", _m, "time")] = _summary
    if _solution:
        VALUES[("", _m, "time remedy")] = _solution
for _m, (_summary, _solution) in _T10.items():
    VALUES[("", _m, "memory")] = _summary
    if _solution:
        VALUES[("", _m, "memory remedy")] = _solution


def lookup(dataset: str | None, method: str, quantity: str) -> str:
    """The paper's figure as printed, or ``""`` when it gives none.

    Parameters
    ----------
    dataset : str or None
        The paper's name (``"ADULT"``, ...); None (a data set the paper does not have)
        gives ``""``. Data-set-free quantities (``time``, ``memory``) ignore it.
    method : str
        fairwash's method name, ``""`` for per-data-set quantities (``S``, ``DI``, ``accuracy``).
    quantity : str
        A key of :data:`QUANTITIES`.

    Examples
    --------
    >>> lookup("ADULT", "Matching", "fairest@10")
    '0.54'
    >>> lookup("ADULT", "", "DI"), lookup(None, "", "DI"), lookup("PUC", "Replace", "fairest@20")
    ('0.30', '', '–')
    """
    if quantity not in QUANTITIES:
        raise KeyError(f"unknown quantity {quantity!r}; known: {sorted(QUANTITIES)}")
    if ("", method, quantity) in VALUES:
        return VALUES[("", method, quantity)]
    if dataset is None:
        return ""
    return VALUES.get((dataset, method, quantity), "")


def as_float(text: str) -> float:
    """A printed figure as a number: ``"0.54"`` -> 0.54; ``""`` and ``"–"`` -> nan."""
    try:
        return float(text)
    except ValueError:
        return math.nan


def source_of(quantity: str) -> str:
    """Where the paper reports ``quantity`` (for captions)."""
    return QUANTITIES[quantity]
