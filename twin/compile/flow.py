"""Traffic equations of a plant: jobs served per order and offered load per station.

Used to size buffers and trace rows before a run and to explain an overload after one; the
simulation itself never relies on them.

The equations are solved over states ``(station j, kind k, product p)`` (see
docs/parts.md): ``x[j, k, p]`` is the mean number of jobs of kind ``k`` and product ``p``
that arrive at station ``j`` per order released. The source puts ``share_p`` orders of each
product into station 0; serving a job emits what ``Station.emits`` says (a split its parts,
any other station the job), and each emitted kind follows ``Plant.routes(j, kind, product)``:

    x = e + M^T x,   e[0, order, p] = share_p,
    M[(j, k, p), (t, k', p)] = (jobs of kind k' emitted per job of kind k) * P(j -> t | k', p).

At an assembly the jobs served are sets: ``x[j, k, p] / n_k`` for the kind ``k`` of the set
that is scarcest (the binding kind), each emitting one unit. The binding kinds are found by
solving with a guess and re-solving with the scarcest kind until none changes.
"""

from __future__ import annotations

import numpy as np

from twin.config import ORDER, Plant, Station

Binding = dict[tuple[int, int], str]
"""The binding kind of each (assembly station, product index)."""


def job_arrivals(plant: Plant) -> np.ndarray:
    """Mean number of jobs arriving at each station per order released, by kind and product.

    Returns
    -------
    ndarray, shape (J, K, P)
        Axis 0 the stations, axis 1 the kinds of `Plant.kinds`, axis 2 the products of
        `Plant.product_ids`.
    """
    return _settle(plant)[0]


def _settle(plant: Plant) -> tuple[np.ndarray, Binding]:
    """The arrivals (J, K, P) and the binding kind of every assembly and product."""
    binding = {(j, p): next(iter(st.assemble))
               for j, st in enumerate(plant.stations) if st.is_assembly
               for p in range(len(plant.product_ids()))}
    for _ in range(len(binding) * len(plant.kinds()) + 1):
        arrivals = _solve(plant, binding)
        scarcest = {key: min(plant.stations[key[0]].assemble,
                             key=lambda kind, key=key: _sets(plant, arrivals, key, kind))
                    for key in binding}
        if all(_sets(plant, arrivals, key, binding[key])
               <= _sets(plant, arrivals, key, scarcest[key]) * (1 + 1e-12) for key in binding):
            return arrivals, binding
        binding = scarcest
    raise RuntimeError("the binding kinds of the assemblies did not settle; report this plant")


def _sets(plant: Plant, arrivals: np.ndarray, key: tuple[int, int], kind: str) -> float:
    """Sets per order at assembly ``key[0]`` for product ``key[1]``, counted on `kind`."""
    j, p = key
    return arrivals[j, plant.kinds().index(kind), p] / plant.stations[j].assemble[kind]


def _solve(plant: Plant, binding: Binding) -> np.ndarray:
    """The arrivals (J, K, P) with the given binding kinds."""
    moves, _ = _equations(plant, binding)
    shape = (len(plant.stations), len(plant.kinds()), len(plant.product_ids()))
    source = np.zeros(shape)
    source[0, plant.kinds().index(ORDER)] = plant.product_shares()
    arrivals = np.linalg.solve(np.eye(len(moves)) - moves.T, source.ravel()).reshape(shape)
    if not np.all(np.isfinite(arrivals)) or arrivals.min() < -1e-9:
        raise ValueError("the traffic equations have no finite solution: parts that a split "
                         "makes return to it often enough to multiply without bound; check the "
                         "loops through split stations")
    return np.maximum(arrivals, 0.0)


def _equations(plant: Plant, binding: Binding) -> tuple[np.ndarray, np.ndarray]:
    """The matrix M of the module docstring, shape (n, n) over the raveled states (J, K, P),
    and the jobs that leave the plant per job arriving in each state, shape (n,)."""
    J, kinds, products = len(plant.stations), plant.kinds(), plant.product_ids()
    shape = (J, len(kinds), len(products))
    moves = np.zeros((int(np.prod(shape)),) * 2)
    leaving = np.zeros(len(moves))
    for (j, k, p), here in np.ndenumerate(np.arange(len(moves)).reshape(shape)):
        station = plant.stations[j]
        for out, count in _emitted(station, kinds[k], binding.get((j, p))):
            for t, prob in plant.routes(j, out, products[p]):
                if t == J:
                    leaving[here] += count * prob
                else:
                    moves[here, np.ravel_multi_index((t, kinds.index(out), p), shape)] += \
                        count * prob
    return moves, leaving


def _emitted(station: Station, kind: str, binding: str | None) -> list[tuple[str, float]]:
    """Jobs emitted per job of `kind` arriving: at an assembly, one unit per set, counted on
    the binding kind's arrivals."""
    if not station.is_assembly:
        return station.emits(kind)
    return [(station.into_kind, 1 / station.assemble[kind])] if kind == binding else []


def served_by_product(plant: Plant) -> np.ndarray:
    """Mean number of jobs served at each station per order released, by product; at an
    assembly a job served is a set. Shape (J, P), products as `Plant.product_ids`."""
    arrivals = job_arrivals(plant)
    served = arrivals.sum(axis=1)
    kinds = plant.kinds()
    for j, st in enumerate(plant.stations):
        if st.is_assembly:
            per_kind = [arrivals[j, kinds.index(k)] / n for k, n in st.assemble.items()]
            served[j] = np.min(per_kind, axis=0)
    return served


def visit_ratios(plant: Plant) -> np.ndarray:
    """Mean number of jobs served at each station per order released, shape (J,).

    Without splits and assemblies this is the mean number of visits an order makes to each
    station: the solution of v = e_0 + P^T v.
    """
    return served_by_product(plant).sum(axis=1)


def effective_process_mean(station: Station, product: str | None = None) -> float:
    """Mean time a job of `product` holds a server in processing, failures and repairs included
    (hours), at volume: with a learning curve, the drawn time at the curve's floor (a floor of
    0 leaves it drawn). `product` may be left out only where the station's times do not depend
    on it."""
    process, failures = station.process_for(product), station.failures_for(product)
    mean = process.mean()
    curve = station.learning_for(product) if station.learning is not None else None
    if curve is not None and curve.rate < 1.0 and curve.floor > 0.0:
        mean *= curve.floor
    if failures is not None:
        mean *= 1.0 + failures.mttr / failures.mtbf
    return mean


def work_per_order(plant: Plant) -> np.ndarray:
    """Server hours each station spends per order released, failures included, shape (J,)."""
    served = served_by_product(plant)
    return np.array([sum(served[j, p] * effective_process_mean(st, product)
                         for p, product in enumerate(plant.product_ids()))
                     for j, st in enumerate(plant.stations)])


def service_means(plant: Plant) -> np.ndarray:
    """Mean time a job served at each station holds a server, over the mix of products that
    reaches it, failures included (hours), shape (J,); 0 where no job is served."""
    visits, work = visit_ratios(plant), work_per_order(plant)
    return np.divide(work, visits, out=np.zeros_like(work), where=visits > 0)


def offered_loads(plant: Plant) -> np.ndarray:
    """Offered load per server of each station at the source's full rate, shape (J,).

    A value at or above 1 means the station cannot keep up with the source; with finite buffers
    upstream the source is then held back, without them the queue grows without bound.
    """
    rate = 1.0 / plant.source.interarrival.mean()
    servers = np.array([st.servers for st in plant.stations])
    return rate * work_per_order(plant) / servers


def exits_per_order(plant: Plant) -> float:
    """Mean number of jobs (units, or parts where parts leave) that leave per order released."""
    arrivals, binding = _settle(plant)
    return float(_equations(plant, binding)[1] @ arrivals.ravel())


def expected_exits(plant: Plant, window_h: float) -> int:
    """A generous first guess of how many jobs (units, or parts where parts leave) leave in a
    window of ``window_h`` hours."""
    work = work_per_order(plant)
    servers = np.array([st.servers for st in plant.stations])
    capacity = np.min(servers[work > 0] / work[work > 0])  # orders per hour
    rate = min(1.0 / plant.source.interarrival.mean(), capacity)
    per_order = round(exits_per_order(plant), 9)  # 1.0, not 0.9999999999, when jobs are kept
    return int(1.2 * rate * per_order * window_h) + 64


def certain_overload(plant: Plant) -> tuple[int, float] | None:
    """The most loaded station whose queue must grow without bound, if the plant has one.

    Only stations whose inflow nothing can throttle are judged: the first station has an
    unlimited buffer (so the source is never held) and so has every station that can send jobs
    to them. Their inflow is then exactly the source rate times their visit ratio, and an
    offered load of 1 or more means an unbounded queue. Elsewhere blocking may hold the flow
    back, and the engine's run-time guard decides.
    """
    stations = plant.stations
    if stations[0].buffer is not None:
        return None
    free = {0}  # stations reached from the source through unlimited buffers only
    frontier = [0]
    while frontier:
        i = frontier.pop()
        for k in plant.successors(i):
            if k < len(stations) and k not in free and stations[k].buffer is None:
                free.add(k)
                frontier.append(k)
    loads = offered_loads(plant)
    worst = max(free, key=lambda j: loads[j])
    return (worst, float(loads[worst])) if loads[worst] >= 1.0 else None
