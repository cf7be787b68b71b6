"""Which hazard ratios of a Cox model have no finite estimate, and why.

With one categorical covariate, whether a level's hazard ratio against the reference
has a finite maximum-likelihood estimate is a question about the data, not about the
iterations (monotone likelihood: Bryson and Johnson 1981, Heinze and Schemper 2001).
:func:`not_estimable` decides it from who had an event while whom was at risk, and names
the cause in the subgroup table's wording; :func:`restrict` gives the data the finite
estimates come from (the estimable levels' patients only).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph

from analytics.estimators.grouping import Block

# Why a level's hazard ratio is not estimable. The wording follows the subgroup table's
# ("<cause>: hazard ratio not estimable"; analytics.analyses.subgroups).
NO_EVENTS = "no events in this group: hazard ratio not estimable"
NO_REFERENCE_EVENTS = "no events in the reference group: hazard ratio not estimable"
GROWS_WITHOUT_BOUND = (
    "monotone likelihood (the hazard ratio grows without bound): hazard ratio not estimable"
)
SHRINKS_TO_ZERO = "monotone likelihood (the hazard ratio shrinks to 0): hazard ratio not estimable"
NEVER_COMPARED = (
    "no events while this group and the reference group were both at risk: "
    "hazard ratio not estimable"
)
NOT_CONVERGED = "the Cox model did not converge: hazard ratio not estimated"


def _reachable(adjacency: NDArray[np.bool_], start: int) -> NDArray[np.bool_]:
    order = csgraph.breadth_first_order(
        sparse.csr_matrix(adjacency.astype(np.float64)),
        start,
        directed=True,
        return_predecessors=False,
    )
    seen = np.zeros(adjacency.shape[0], dtype=bool)
    seen[np.asarray(order, dtype=np.intp)] = True
    return seen


def not_estimable(blocks: Sequence[Block], n_levels: int, ref: int) -> dict[int, str]:
    """Levels whose coefficient against the reference has no finite MLE, with the reason.

    With one categorical covariate this is a question about the data, not about the
    iterations (Bryson and Johnson 1981; Heinze and Schemper 2001, "monotone
    likelihood"). Along a direction delta of the level coefficients, each event of level
    a at time t adds s * (delta_a - max delta_b over the levels b at risk at t), as
    s -> infinity, to the log partial likelihood: it never decreases along delta iff
    delta_a >= delta_b for every pair where a had an event while b was at risk (same
    stratum). Draw an edge b -> a for each such pair. Every hazard ratio has a finite
    MLE iff the graph is strongly connected; otherwise the supremum is approached with
    some of them running to 0 or infinity. Bounding each event's risk set by its own
    strongly connected component shows the supremum is the product of the components'
    own likelihoods: the finite hazard ratios against the reference are those of the
    levels in its component (reachable from it and reaching it), and they equal the fit
    on those levels' patients alone. A level only reachable from the reference lies
    above it in the limit (ratio -> infinity), one that only reaches it lies below (-> 0),
    one doing neither is never compared with it. A level without events has no edge in,
    so it is always its own component: its coefficient goes to -infinity and its
    patients drop out of every risk set in the limit.

    Level b is at risk at every event time up to its last time in the block (risk
    sets only shrink), so the edge b -> a exists iff a's first event there comes no
    later than b's last time: O(levels^2) per stratum, whatever the number of times.
    """
    adjacency = np.zeros((n_levels, n_levels), dtype=bool)
    events = np.zeros(n_levels)
    for b in blocks:
        events += b.deaths.sum(axis=0)
        if b.times.size == 0:
            continue
        has_death = b.deaths > 0
        first = np.where(has_death.any(axis=0), b.times[np.argmax(has_death, axis=0)], np.inf)
        at_risk = b.at_risk > 0
        last_row = at_risk.shape[0] - 1 - np.argmax(at_risk[::-1], axis=0)
        last = np.where(at_risk.any(axis=0), b.times[last_row], -np.inf)
        adjacency |= first[None, :] <= last[:, None]
    above = _reachable(adjacency, ref)  # delta >= delta_ref along every direction
    below = _reachable(adjacency.T, ref)  # delta <= delta_ref
    reasons: dict[int, str] = {}
    for k in range(n_levels):
        if k == ref or (above[k] and below[k]):
            continue
        if events[k] <= 0:
            reasons[k] = NO_EVENTS
        elif events[ref] <= 0:
            reasons[k] = NO_REFERENCE_EVENTS
        elif above[k]:
            reasons[k] = GROWS_WITHOUT_BOUND
        elif below[k]:
            reasons[k] = SHRINKS_TO_ZERO
        else:
            reasons[k] = NEVER_COMPARED
    return reasons


def restrict(blocks: Sequence[Block], keep: NDArray[np.intp]) -> tuple[Block, ...]:
    """The blocks of the data without the patients of the levels not in `keep` (the
    at-risk counts are per level, so dropping a column drops exactly its patients)."""
    return tuple(Block(b.stratum, b.times, b.deaths[:, keep], b.at_risk[:, keep]) for b in blocks)
