"""How jobs of every kind flow through a plant (docs/parts.md): which kinds reach each station,
what share of an order each kind is worth, and the whole-plant checks of flow, splits,
assemblies and values given by part or by product.

The flow is a graph over states ``(station, kind)``: a job of `kind` arriving at a station.
Serving it emits what `Station.emits` says (a split its parts, an assembly its unit, any other
station the job itself), and each emitted kind follows its own routing, over every product.
State ``(J, kind)``, ``J == len(stations)``, is a job of that kind leaving the plant.
"""

import difflib
from fractions import Fraction
from math import isclose
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twin.config.models import Plant, Station

ORDER = "order"
"""The kind of job the source releases; reserved, so no part kind may use it."""

ALL_PRODUCTS = "all"
"""The one product of a plant without `products`."""

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]
State = tuple[int, str]


# --------------------------------------------------------------------------------------------
# The flow of kinds
# --------------------------------------------------------------------------------------------


def moves(plant: "Plant") -> dict[State, set[State]]:
    """Where what leaves each state goes (with p > 0 at some time, for some product): state ->
    states."""
    return {(j, kind): {(t, out) for out, _ in station.emits(kind)
                        for product in plant.product_ids()
                        for t in plant.targets(j, out, product)}
            for j, station in enumerate(plant.stations) for kind in plant.kinds()}


def reached_states(plant: "Plant") -> set[State]:
    """The states a job released by the source can get to, exits included."""
    return _closure({(0, ORDER)}, moves(plant))


def reaching(plant: "Plant") -> list[set[str]]:
    """For each station, the kinds that can reach it: shape (J,) of sets."""
    kinds: list[set[str]] = [set() for _ in plant.stations]
    for j, kind in reached_states(plant):
        if j < len(plant.stations):
            kinds[j].add(kind)
    return kinds


def kind_weights(plant: "Plant") -> dict[str, float]:
    """The share of an order a job of each kind is worth, in the order of `Plant.kinds`: 1 for
    `order`; a part of a split of a job worth `w` into n1 + n2 + ... parts, w / (n1 + n2 + ...);
    an assembly's unit, the sum of its set's worth. Kinds never made are left out."""
    return _weighing(plant)[0]


def _weighing(plant: "Plant") -> tuple[dict[str, float], list[Problem]]:
    """The worth of every kind made, propagated from the source, and the places where a kind
    is made worth another share than where it was first made."""
    weights, made_at = {ORDER: 1.0}, {ORDER: "the source"}
    problems: dict[tuple[str, Loc], str] = {}
    arriving = reaching(plant)
    grown = True
    while grown:  # each round weighs at least one more kind, or ends
        grown = False
        for j, station in enumerate(plant.stations):
            for kind, weight, loc in _made_here(j, station, arriving[j], weights):
                if kind not in weights:
                    weights[kind], made_at[kind], grown = weight, f"'{station.id}'", True
                elif not isclose(weights[kind], weight, rel_tol=1e-9):
                    problems[kind, loc] = (
                        f"'{kind}' is worth {_share(weight)} of an order here but "
                        f"{_share(weights[kind])} where it is also made ({made_at[kind]}); a "
                        "kind must be worth the same share everywhere: give these parts "
                        "another kind name")
    ordered = {kind: weights[kind] for kind in plant.kinds() if kind in weights}
    return ordered, [(loc, message) for (_, loc), message in problems.items()]


def _made_here(j: int, station: "Station", arriving: set[str],
               weights: dict[str, float]) -> list[tuple[str, float, Loc]]:
    """(kind, worth, where) of each kind station `j` makes from the weighed kinds arriving."""
    here: Loc = ("stations", j)
    if station.split is not None:
        total = sum(station.split.values())
        return [(part, weights[kind] / total, (*here, "split", part))
                for kind in sorted(arriving & weights.keys()) for part in station.split]
    if station.is_assembly and arriving & set(station.assemble) \
            and set(station.assemble) <= weights.keys():
        worth = sum(n * weights[kind] for kind, n in station.assemble.items())
        where = "assemble" if station.into is None else "into"
        return [(station.into_kind, worth, (*here, where))]
    return []


def _share(weight: float) -> str:
    """A share of an order as a fraction: 1, 1/27, 2/3."""
    return str(Fraction(weight).limit_denominator(10**6))


def _closure(starts: set[State], edges: dict[State, set[State]]) -> set[State]:
    """The states reachable from `starts` along `edges`, `starts` included."""
    seen = set(starts)
    stack = list(starts)
    while stack:
        for neighbour in edges.get(stack.pop(), ()):
            if neighbour not in seen:
                seen.add(neighbour)
                stack.append(neighbour)
    return seen


# --------------------------------------------------------------------------------------------
# Checks of the station forms (before any routing is resolved)
# --------------------------------------------------------------------------------------------


def form_problems(plant: "Plant") -> list[Problem]:
    """Assembly keys where there is no assembly, values by product that do not match
    `products`, and part kinds that no station makes."""
    made = {ORDER} | {kind for s in plant.stations for kind in s.split or {}}
    made |= {s.into for s in plant.stations if s.into is not None}
    problems = []
    for j, station in enumerate(plant.stations):
        problems += _assembly_key_problems(("stations", j), station)
        problems += _product_problems(("stations", j), station, plant.products)
        problems += _unmade_problems(("stations", j), station, made)
    return problems


def _assembly_key_problems(here: Loc, station: "Station") -> list[Problem]:
    """`match`, `into` and places per kind without `assemble`; `split` with it; places for a
    kind the assembly does not take."""
    per_kind = station.buffer if isinstance(station.buffer, dict) else {}
    if station.is_assembly:
        problems = [((*here, "buffer", kind), f"'{kind}' is not a kind this station assembles; "
                     f"{_hint(kind, list(station.assemble))}")
                    for kind in per_kind if kind not in station.assemble]
        if station.split is not None:
            problems.append(((*here, "split"), "a station cannot both split and assemble; "
                             "split at one station and assemble at another"))
        return problems
    problems = [((*here, key), f"`{key}` applies only to an assembly; add `assemble` to this "
                 f"station or remove `{key}`")
                for key in ("match", "into") if getattr(station, key) is not None]
    if isinstance(station.buffer, dict):
        problems.append(((*here, "buffer"), "places per kind apply only to an assembly; give one "
                         "number of places (or null), or add `assemble`"))
    return problems


def _product_problems(here: Loc, station: "Station",
                      products: dict[str, float] | None) -> list[Problem]:
    """Values `by_product` without `products`, naming an unknown product, or missing one."""
    values: list[tuple[Loc, Any]] = [(("process",), station.process),
                                     (("failures",), station.failures), (("next",), station.next),
                                     (("learning",), station.learning)]
    if station.power is not None:
        values.append((("power", "busy"), station.power.busy))
    problems = []
    for path, value in values:
        given = getattr(value, "by_product", None)
        if given is None:
            continue
        if products is None:
            problems.append(((*here, *path), "`by_product` needs the plant's `products`; declare "
                             "`products: {id: share, ...}` at the top level, or give one value "
                             "for every job"))
            continue
        problems += [((*here, *path, "by_product", name),
                      f"unknown product '{name}'; {_hint(name, list(products))}")
                     for name in given if name not in products]
        problems += [((*here, *path, "by_product"), f"has no entry for product '{name}'; add "
                      "one: `by_product` names every product")
                     for name in products if name not in given]
    return problems


def _unmade_problems(here: Loc, station: "Station", made: set[str]) -> list[Problem]:
    """Kinds named by `next.by_part` or `assemble` that no split or `into` makes."""
    named = [((*here, "assemble", kind), kind) for kind in station.assemble or {}]
    named += [((*here, "next", "by_part", kind), kind)
              for kind in getattr(station.next, "by_part", {})]
    problems = []
    for loc, kind in named:
        if kind not in made:
            close = difflib.get_close_matches(kind, sorted(made), n=1)
            guess = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append((loc, f"no station makes '{kind}'{guess}: add it to a split or make "
                             "it an assembly's `into`, or remove it here"))
    return problems


def _hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(known)}"


# --------------------------------------------------------------------------------------------
# Checks of the flow (every routing target resolved)
# --------------------------------------------------------------------------------------------


def flow_problems(plant: "Plant") -> list[Problem]:
    """Stations no job reaches or no job leaves, kinds without a route or an assembly that
    takes them, assemblies that can never complete a set, kinds worth two shares."""
    reached = reached_states(plant)
    arriving = reaching(plant)
    problems = _reach_problems(plant, reached, arriving)
    for j, station in enumerate(plant.stations):
        problems += _unrouted_problems(plant, j, arriving[j])
        if station.is_assembly and arriving[j]:
            problems += _assembly_problems(j, station, arriving[j])
    return problems + _weighing(plant)[1]


def _reach_problems(plant: "Plant", reached: set[State],
                    arriving: list[set[str]]) -> list[Problem]:
    """Stations no job can reach, and stations from which some job can never exit."""
    first = plant.stations[0].id
    problems = []
    for k, station in enumerate(plant.stations):
        if not arriving[k]:
            problems.append((("stations", k),
                             f"no job can reach station '{station.id}' (the source feeds '{first}' "
                             "and no route with p > 0 leads here); route jobs to it from another "
                             "station's `next` or remove it"))
    trapped = sorted({j for j, _ in reached - _can_exit(plant)})
    if trapped:
        names = ", ".join(f"'{plant.stations[k].id}'" for k in trapped)
        problems.append((("stations", trapped[0]),
                         f"jobs that reach station(s) {names} can never exit (no route with p > 0 "
                         "leads from them to `exit`); give one of them a `next` that leads to "
                         "exit"))
    return problems


def _can_exit(plant: "Plant") -> set[State]:
    """The states from which some path with p > 0 leads out of the plant, or to a dead end
    that another check names (so that one missing route is reported once)."""
    back: dict[State, set[State]] = {}
    for state, targets in moves(plant).items():
        for target in targets:
            back.setdefault(target, set()).add(state)
    ends = {state for state in back if state[0] == len(plant.stations)}
    ends |= {(j, kind) for j in range(len(plant.stations)) for kind in plant.kinds()
             if _dead_end(plant, j, kind)}
    return _closure(ends, back)


def _dead_end(plant: "Plant", j: int, kind: str) -> bool:
    """Whether `kind` stops at station `j` for a reason another check names: an assembly that
    does not take it, or a `by_part` without an entry for what leaves."""
    station = plant.stations[j]
    by_part = getattr(station.next, "by_part", None)
    emitted = station.emits(kind)
    return not emitted or by_part is not None and any(out not in by_part for out, _ in emitted)


def _unrouted_problems(plant: "Plant", j: int, arriving: set[str]) -> list[Problem]:
    """Kinds that leave a station routing `by_part` without an entry for them."""
    station = plant.stations[j]
    by_part = getattr(station.next, "by_part", None)
    if by_part is None:
        return []
    leaving = {out for kind in arriving for out, _ in station.emits(kind)}
    return [(("stations", j, "next", "by_part"),
             f"jobs of kind '{kind}' leave station '{station.id}' but `by_part` has no entry for "
             f"them; add `{kind}: <station or exit>`")
            for kind in sorted(leaving - by_part.keys())]


def _assembly_problems(j: int, station: "Station", arriving: set[str]) -> list[Problem]:
    """Kinds an assembly does not take, and kinds of its set that never reach it or for which
    it has too few places."""
    here: Loc = ("stations", j)
    problems = [((*here, "assemble"), f"'{kind}' reaches '{station.id}', whose `assemble` does "
                 "not take it; add it to `assemble` or route it elsewhere")
                for kind in sorted(arriving - station.assemble.keys())]
    for kind, count in station.assemble.items():
        places = station.places_for(kind)
        if kind not in arriving:
            problems.append(((*here, "assemble", kind), f"'{kind}' never reaches "
                             f"'{station.id}', so no set can complete; route it here or remove "
                             "it from `assemble`"))
        elif places is not None and places < count:
            where = (*here, "buffer", kind) if isinstance(station.buffer, dict) else \
                (*here, "buffer")
            problems.append((where, f"{places} places for '{kind}' cannot hold the {count} a "
                             f"set needs, so no set can complete; raise them to at least {count}"))
    return problems
