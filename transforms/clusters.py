"""Meetings from matching pairs: connected components, split wherever one would hold two listings of a source.

Components are computed with numpy (hooking and pointer jumping over the edge arrays), so a million
records take well under a second. A component that joins two records of the same source (a chain A–B–C
where A and C are different meetings of one feed) is rebuilt greedily from its strongest links, never
joining two clusters that share a source. Exact duplicates inside a source are one listing for this rule.
"""

from __future__ import annotations

import numpy as np


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Label of each of ``n`` nodes: the smallest node of its connected component."""
    parent = np.arange(n, dtype=np.int64)
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    while True:
        ra, rb = parent[a], parent[b]
        lo, hi = np.minimum(ra, rb), np.maximum(ra, rb)
        differ = lo != hi
        if not differ.any():
            return parent
        np.minimum.at(parent, hi[differ], lo[differ])
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped


def _greedy(nodes: np.ndarray, a: np.ndarray, b: np.ndarray, order: np.ndarray, source: np.ndarray) -> dict[int, int]:
    """Union strongest edges first, refusing any union of two clusters that share a source."""
    parent = {int(x): int(x) for x in nodes}
    sources = {int(x): {int(source[x])} for x in nodes}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i in order:
        ra, rb = find(int(a[i])), find(int(b[i]))
        if ra == rb or sources[ra] & sources[rb]:
            continue
        lo, hi = min(ra, rb), max(ra, rb)
        parent[hi] = lo
        sources[lo] |= sources.pop(hi)
    return {x: find(x) for x in parent}


def cluster(
    n: int, a: np.ndarray, b: np.ndarray, score: np.ndarray, exact: np.ndarray, source: np.ndarray
) -> np.ndarray:
    """Cluster label (smallest member) of each record.

    ``a``, ``b``, ``score``: matching pairs; ``exact``: which pairs are two listings of one meeting inside one source;
    ``source``: an integer code (0 … sources − 1) of each record's source.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    source = np.asarray(source, dtype=np.int64)
    listing = components(n, a[exact], b[exact])
    la, lb = listing[a], listing[b]
    keep = la != lb
    la, lb, score = la[keep], lb[keep], np.asarray(score)[keep]
    label = components(n, la, lb)
    roots = np.flatnonzero(listing == np.arange(n))
    sources = int(source.max()) + 1 if n else 1
    held, copies = np.unique(label[roots] * sources + source[roots], return_counts=True)
    conflicted = np.unique(held[copies > 1] // sources)
    if conflicted.size:
        inside = np.isin(label[la], conflicted)
        ea, eb, es = la[inside], lb[inside], score[inside]
        order = np.lexsort((eb, ea, -es))
        for node, root in _greedy(np.unique(np.concatenate([ea, eb])), ea, eb, order, source).items():
            label[node] = root
    return label[listing]
