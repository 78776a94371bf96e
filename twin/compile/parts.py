"""Products, kinds, splits and assemblies of a batch of plants as the engine's tables
(docs/parts.md): a job's tag is ``kind x PR + product``; kind 0 is the order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.config import Plant
from twin.engine import codes


@dataclass(frozen=True)
class PartsPlan:
    """The batch's products and kinds, and per scenario the tables the engine reads.

    Attributes
    ----------
    products, kinds : tuple of str
        Product ids (``("all",)`` without products) and kind names (``order`` first).
    product_cum : (S, PR) float64
        Cumulative product shares.
    tag_weight : (S, TG) float64
        Share of an order a job of each tag is worth.
    route_cum : (S, J + 1, TG, J + 1) float64
        Cumulative routing probabilities from each station row, for a job of each tag.
    split_kind, split_count : (S, J + 1, KD) int64
        Kinds a split station's job becomes, in order (-1: end), and how many of each;
        ``split_total`` (S, J + 1) their sum (0: no split).
    assembly, into_kind, lead_kind : (S, J + 1) int64
        0 or codes.MATCH_ORDER / MATCH_ANY; the unit's kind; the kind whose oldest part names
        the unit under match any.
    assemble_n : (S, J + 1, KD) int64
        Parts of each kind a set needs.
    kcap : (S, J + 1, KD) float64
        Places of each kind at an assembly (inf: unlimited).
    """

    products: tuple[str, ...]
    kinds: tuple[str, ...]
    product_cum: np.ndarray
    tag_weight: np.ndarray
    route_cum: np.ndarray
    split_kind: np.ndarray
    split_count: np.ndarray
    split_total: np.ndarray
    assembly: np.ndarray
    into_kind: np.ndarray
    lead_kind: np.ndarray
    assemble_n: np.ndarray
    kcap: np.ndarray

    @property
    def any_parts(self) -> bool:
        """Whether some station splits or assembles."""
        return bool(self.split_total.any() or self.assembly.any())


def _same(plants: list[Plant], what: str, value) -> tuple[str, ...]:
    values = {tuple(value(p)) for p in plants}
    if len(values) > 1:
        raise ValueError(f"all scenarios of a batch must have the same {what}")
    return values.pop()


def route_table(plant: Plant, kinds: tuple[str, ...], products: tuple[str, ...],
                at: float | None = None) -> np.ndarray:
    """(J + 1, TG, J + 1) cumulative routing of one plant by tag, with the probabilities in
    force at hour ``at`` (None: the last ones); the source sends every order to station 0."""
    J, PR = len(plant.stations), len(products)
    route = np.zeros((J + 1, len(kinds) * PR, J + 1))
    for j in range(J):
        for d, kind in enumerate(kinds):
            for p, product in enumerate(products):
                branches = plant.routes(j, kind, product, at=at) or [(J, 1.0)]  # unreachable tags
                for target, prob in branches:
                    route[j, d * PR + p, target] += prob
    route[J, :, 0] = 1.0
    cum = np.cumsum(route, axis=-1)
    cum[..., -1] = 1.0
    return cum


def _stations(plant: Plant, kinds: tuple[str, ...]) -> dict[str, np.ndarray]:
    """One plant's split and assembly tables (see :class:`PartsPlan`)."""
    J, KD = len(plant.stations), len(kinds)
    out = {"split_kind": np.full((J + 1, KD), -1), "split_count": np.zeros((J + 1, KD)),
           "assembly": np.zeros(J + 1), "into_kind": np.zeros(J + 1),
           "lead_kind": np.zeros(J + 1), "assemble_n": np.zeros((J + 1, KD)),
           "kcap": np.full((J + 1, KD), np.inf)}
    for j, st in enumerate(plant.stations):
        for i, (kind, count) in enumerate((st.split or {}).items()):
            out["split_kind"][j, i], out["split_count"][j, i] = kinds.index(kind), count
        if st.assemble:
            match = codes.MATCH_ANY if st.match == "any" else codes.MATCH_ORDER
            out["assembly"][j], out["into_kind"][j] = match, kinds.index(st.into_kind)
            out["lead_kind"][j] = kinds.index(next(iter(st.assemble)))
            for kind, count in st.assemble.items():
                d = kinds.index(kind)
                out["assemble_n"][j, d] = count
                places = st.places_for(kind)
                out["kcap"][j, d] = np.inf if places is None else places
    return out


def parts_plan(plants: list[Plant]) -> PartsPlan:
    """The products, kinds and part tables of a batch (all scenarios share products and
    kinds; shares, splits and assemblies may differ)."""
    products = _same(plants, "products", lambda p: p.product_ids())
    kinds = _same(plants, "part kinds", lambda p: p.kinds())
    PR = len(products)
    tables = [_stations(p, kinds) for p in plants]
    stacked = {name: np.stack([t[name] for t in tables]) for name in tables[0]}
    ints = {name: stacked[name].astype(np.int64) for name in stacked if name != "kcap"}
    weights = [[p.kind_weights().get(kind, 0.0) for kind in kinds for _ in range(PR)]
               for p in plants]
    return PartsPlan(
        products=products, kinds=kinds,
        product_cum=np.cumsum([p.product_shares() for p in plants], axis=1),
        tag_weight=np.asarray(weights, dtype=np.float64),
        route_cum=np.stack([route_table(p, kinds, products) for p in plants]),
        split_total=ints["split_count"].sum(axis=2), kcap=stacked["kcap"], **ints)
