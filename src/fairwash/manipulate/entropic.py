r"""Entropic projection: the KL-closest reweighting of P_n with a prescribed DI (Section 5.1).

Theorem 5.1 (Bachoc et al.): among distributions ``Q ≪ P_n`` with ``E_Q[Φ] = b``, the one
minimising ``KL(Q ‖ P_n)`` is an exponential tilt of ``P_n``,

.. math::
    Q_\xi = \sum_i \lambda_i \delta_{z_i}, \qquad
    \lambda_i = \frac{e^{\langle \xi, \Phi(z_i) \rangle}}{\sum_j e^{\langle \xi, \Phi(z_j) \rangle}}
    \qquad (5)

with ``ξ`` the unique minimiser of the strictly convex dual
``H(ξ) = log (1/n) Σ_j exp⟨ξ, Φ(z_j)⟩ − ⟨ξ, b⟩``.  :func:`kl_projection` solves this
dual by damped Newton for any ``Φ``.

For Disparate Impact (eq. 6, Proposition 1) we take
``Φ(x, s, ŷ) = (1{s=0}, ŷ·1{s=0}, ŷ·1{s=1})`` and ``b = (π_0, π_0 p_0', π_1 p_1')``: group
masses kept at ``π_s = n_s / n`` and group positive rates moved to the target rates
``(p_0', p_1')`` of :func:`fairwash.manipulate.targets.target_rates` (balanced or
proportional, Remark 3), so ``DI(Q) = p_0'/p_1' = t`` exactly.  With binary ŷ the tilt has a
closed form: within group s, ``λ_i ∝ exp(ξ_s ŷ_i)`` with
``ξ_s = logit(p_s') − logit(p_s)``, i.e. every positive of group s weighs
``π_s p_s' / a_s`` and every negative ``π_s (1 − p_s') / (n_s − a_s)`` (``a_s`` positives).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy.special import logsumexp

from fairwash.catalogue import COMPLIANCE_THRESHOLD
from fairwash.data.base import AuditData
from fairwash.fairness import disparate_impact
from fairwash.manipulate.base import Manipulation
from fairwash.manipulate.targets import Variant, target_rates

__all__ = ["entropic", "kl_projection", "kl_divergence"]

_NAMES = {"balanced": "Entropic_b", "proportional": "Entropic_p"}


def kl_divergence(weights: np.ndarray) -> float:
    """``KL(Q ‖ P_n) = Σ_i λ_i log(n λ_i)`` for weights ``λ`` on the n original points."""
    w = np.asarray(weights, dtype=np.float64)
    pos = w > 0
    return float(np.sum(w[pos] * np.log(len(w) * w[pos])))


def kl_projection(
    phi: np.ndarray, b: np.ndarray, *, tol: float = 1e-12, max_iter: int = 200
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    r"""KL projection of the empirical measure onto ``{Q : E_Q[Φ] = b}`` (Theorem 5.1, eq. 5).

    Minimises the dual :math:`H(\xi) = \log \frac1n \sum_j e^{\langle \xi, \Phi_j\rangle}
    - \langle \xi, b\rangle` by Newton's method with backtracking (gradient
    :math:`E_{Q_\xi}[\Phi] - b`, Hessian :math:`\mathrm{Cov}_{Q_\xi}(\Phi)`).

    Parameters
    ----------
    phi : ndarray, shape (n, k)
        ``Φ(z_i)`` for each support point; its empirical covariance must be invertible.
    b : ndarray, shape (k,)
        Target moments, in the interior of the convex hull of the rows of ``phi``.
    tol : float, default 1e-12
        Stop when ``max |E_Q[Φ] − b| < tol``.
    max_iter : int, default 200

    Returns
    -------
    weights : ndarray, shape (n,)
        ``λ_i`` (sum to 1).
    xi : ndarray, shape (k,)
        The dual solution.
    log : dict
        ``iterations``, ``gradient_norm``.

    Raises
    ------
    ValueError
        If the Hessian is singular or Newton does not converge (``b`` outside the hull).
    """
    phi = np.asarray(phi, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if phi.ndim != 2 or b.shape != (phi.shape[1],):
        raise ValueError(f"kl_projection: phi must be (n, k) and b (k,); got {phi.shape}, {b.shape}")

    def dual(xi: np.ndarray) -> float:
        return float(logsumexp(phi @ xi) - np.log(len(phi)) - xi @ b)

    xi = np.zeros(phi.shape[1])
    g = np.full_like(b, np.inf)
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 (it is reported after the loop)
        z = phi @ xi
        lam = np.exp(z - logsumexp(z))
        mean = lam @ phi
        g = mean - b
        if np.max(np.abs(g)) < tol:
            break
        cen = phi - mean
        H = (cen * lam[:, None]).T @ cen
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError as exc:
            raise ValueError("kl_projection: Cov_Q(Φ) is singular; some constraint is redundant") from exc
        h0, slope, eta = dual(xi), float(g @ step), 1.0
        slack = 1e-14 * max(1.0, abs(h0))  # near the optimum H changes below rounding: take full steps
        while dual(xi - eta * step) > h0 - 1e-4 * eta * slope + slack and eta > 1e-12:
            eta /= 2.0
        xi = xi - eta * step
    else:
        raise ValueError(
            f"kl_projection: Newton did not converge in {max_iter} iterations (|grad| = "
            f"{np.max(np.abs(g)):.3g}); b may lie outside the interior of the convex hull of Φ"
        )
    z = phi @ xi
    lam = np.exp(z - logsumexp(z))
    return lam, xi, {"iterations": it, "gradient_norm": float(np.max(np.abs(g)))}


def _dual_logit(p: float) -> float:
    return float(np.log(p) - np.log1p(-p))


def entropic(
    data: AuditData,
    target: float = COMPLIANCE_THRESHOLD,
    variant: Variant = "balanced",
    *,
    solver: Literal["closed", "newton"] = "closed",
) -> Manipulation:
    r"""Entropic_b / Entropic_p: the KL projection of P_n onto ``DI = t`` (Thm 5.1, Prop. 1).

    Weights, within each group s (``n_s`` individuals, ``a_s`` positives, rate ``p_s``):

    .. math::
        \lambda_i = \frac{n_s}{n}\,\frac{e^{\xi_s \hat y_i}}{\sum_{j: s_j = s} e^{\xi_s \hat y_j}},
        \qquad \xi_s = \operatorname{logit}(p_s') - \operatorname{logit}(p_s),

    so that ``Q(S=s) = n_s/n`` and ``Q(Ŷ=1 | S=s) = p_s'``, the target rates of the variant
    (:func:`~fairwash.manipulate.targets.target_rates`), hence ``DI(Q) = t``.

    Parameters
    ----------
    data : AuditData
        The audited set; ``Y_hat`` required.
    target : float, default 0.8
        Target unbounded DI ``t``.
    variant : {"balanced", "proportional"}, default "balanced"
        Split of the DI change between the groups (Remark 3): method names
        ``"Entropic_b"`` / ``"Entropic_p"``.
    solver : {"closed", "newton"}, default "closed"
        Closed form above, or the general Newton solve of the dual (:func:`kl_projection`)
        with ``Φ = (1{s=0}, ŷ 1{s=0}, ŷ 1{s=1})``; both give the same weights.

    Returns
    -------
    Manipulation
        The original points with weights ``λ`` (``origin = arange(n)``); ``info``: ``kl``
        (``Σ λ_i log(n λ_i)``), ``xi`` (``[ξ_0, ξ_1]``), ``rates0``, ``target_rates``,
        ``di0``, ``variant``, ``already_fair``.

    Raises
    ------
    ValueError
        Missing ``Y_hat``, undefined DI, or an unreachable target (a rate that must move
        has no individual to reweight, e.g. no positive decision in S=0).
    """
    method, t = _check_entropic_args(target, variant, solver)
    yh = np.asarray(data.require_y_hat(), dtype=np.int64)
    s = data.S.astype(np.int64)
    n = data.n
    n_s = np.array([(s == g).sum() for g in (0, 1)], dtype=np.float64)
    a_s = np.array([((s == g) & (yh == 1)).sum() for g in (0, 1)], dtype=np.float64)
    p = a_s / n_s
    if a_s[1] == 0:
        raise ValueError(f"{method}: no positive decision in S=1 in {data.name!r}; DI is undefined")
    di0 = float(p[0] / p[1])
    info: dict[str, Any] = {"variant": variant, "di0": di0, "rates0": p.tolist(), "solver": solver}
    X = data.X.to_numpy(dtype=np.float64)
    if di0 >= t - 1e-12:
        return _already_fair(method, t, X, data.S, yh, p, info)
    q = np.array(target_rates(p[0], p[1], n_s[0], n_s[1], t, variant))
    _check_reweightable(method, t, p, q, n_s, a_s)
    w, xi, log = _tilt(solver, s, yh, n_s / n, p, q, n_s, a_s)
    w = w / w.sum()
    info.update(
        already_fair=False,
        kl=kl_divergence(w),
        xi=[float(v) for v in xi],
        target_rates=q.tolist(),
        di=disparate_impact(yh, s, w),
        **log,
    )
    info["reached"] = bool(info["di"] >= t - 1e-9)
    return Manipulation(method, t, X, data.S, yh, w, np.arange(n), None, info)


def _check_entropic_args(target: float, variant: str, solver: str) -> tuple[str, float]:
    """Validate :func:`entropic`'s options; returns the method name and the target as float."""
    if variant not in _NAMES:
        raise ValueError(f"entropic: variant must be 'balanced' or 'proportional', not {variant!r}")
    if solver not in ("closed", "newton"):
        raise ValueError(f"entropic: solver must be 'closed' or 'newton', not {solver!r}")
    method = _NAMES[variant]
    t = float(target)
    if not np.isfinite(t) or t <= 0:
        raise ValueError(f"{method}: target must be a positive finite DI, got {target!r}")
    return method, t


def _already_fair(
    method: str, t: float, X: np.ndarray, S: np.ndarray, yh: np.ndarray, p: np.ndarray, info: dict[str, Any]
) -> Manipulation:
    """``Q = P_n`` (uniform weights) when the DI already meets the target."""
    n = len(yh)
    w = np.full(n, 1.0 / n)
    return Manipulation(
        method,
        t,
        X,
        S,
        yh,
        w,
        np.arange(n),
        None,
        {
            **info,
            "already_fair": True,
            "reached": True,
            "kl": 0.0,
            "xi": [0.0, 0.0],
            "target_rates": p.tolist(),
        },
    )


def _check_reweightable(
    method: str, t: float, p: np.ndarray, q: np.ndarray, n_s: np.ndarray, a_s: np.ndarray
) -> None:
    """Raise when a group rate must move but the group has no decision of the kind to reweight."""
    for g in (0, 1):
        if q[g] != p[g] and (a_s[g] == 0 or a_s[g] == n_s[g]):
            kind = "positive" if a_s[g] == 0 else "negative"
            raise ValueError(
                f"{method}: target DI {t} needs the positive rate of S={g} to move from {p[g]:.4f} to "
                f"{q[g]:.4f}, but S={g} has no {kind} decision to reweight"
            )


def _tilt(
    solver: str,
    s: np.ndarray,
    yh: np.ndarray,
    pi: np.ndarray,
    p: np.ndarray,
    q: np.ndarray,
    n_s: np.ndarray,
    a_s: np.ndarray,
) -> tuple[np.ndarray, list[float], dict[str, Any]]:
    """The tilted weights (not yet normalised), ``[ξ_0, ξ_1]`` and the solver's log.

    ``solver == "closed"``: the closed form of :func:`entropic`; ``"newton"``:
    :func:`kl_projection` with ``Φ = (1{s=0}, ŷ 1{s=0}, ŷ 1{s=1})``.
    """
    if solver == "closed":
        pos_w = np.divide(pi * q, a_s, out=np.zeros(2), where=a_s > 0)
        neg_w = np.divide(pi * (1 - q), n_s - a_s, out=np.zeros(2), where=n_s > a_s)
        w = np.where(yh == 1, pos_w[s], neg_w[s])
        xi = [_dual_logit(q[g]) - _dual_logit(p[g]) for g in (0, 1)]
        log: dict[str, Any] = {}
    else:
        phi = np.column_stack([s == 0, yh * (s == 0), yh * (s == 1)]).astype(np.float64)
        w, xi_full, log = kl_projection(phi, np.array([pi[0], pi[0] * q[0], pi[1] * q[1]]))
        xi = [float(xi_full[1]), float(xi_full[2])]
    return w, xi, log
