"""Traffic equations of a plant: visits per job and offered load per station.

Used to size buffers before a run and to explain an overload after one; the simulation itself
never relies on them.
"""

from __future__ import annotations

import numpy as np

from twin.config import Plant


def visit_ratios(plant: Plant) -> np.ndarray:
    """Mean number of visits a job makes to each station, shape (J,).

    Solves v = e_0 + P^T v, where P[i, k] is the routing probability from station i to k.
    """
    J = len(plant.stations)
    P = np.zeros((J, J))
    for i in range(J):
        for k, prob in plant.routes(i):
            if k < J:
                P[i, k] += prob
    e0 = np.zeros(J)
    e0[0] = 1.0
    return np.linalg.solve(np.eye(J) - P.T, e0)


def effective_process_mean(station) -> float:
    """Mean time a job holds a server in processing, failures and repairs included (hours)."""
    mean = station.process.mean()
    if station.failures is not None:
        mean *= 1.0 + station.failures.mttr / station.failures.mtbf
    return mean


def offered_loads(plant: Plant) -> np.ndarray:
    """Offered load per server of each station at the source's full rate, shape (J,).

    A value at or above 1 means the station cannot keep up with the source; with finite buffers
    upstream the source is then held back, without them the queue grows without bound.
    """
    rate = 1.0 / plant.source.interarrival.mean()
    visits = visit_ratios(plant)
    return np.array([rate * v * effective_process_mean(st) / st.servers
                     for v, st in zip(visits, plant.stations, strict=True)])


def expected_exits(plant: Plant, window_h: float) -> int:
    """A generous first guess of how many jobs leave in a window of ``window_h`` hours."""
    capacity = min([st.servers / effective_process_mean(st) / v
                    for v, st in zip(visit_ratios(plant), plant.stations, strict=True)])
    rate = min(1.0 / plant.source.interarrival.mean(), capacity)
    return int(1.2 * rate * window_h) + 64


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
        for k, prob in plant.routes(i):
            if k < len(stations) and prob > 0 and k not in free and stations[k].buffer is None:
                free.add(k)
                frontier.append(k)
    loads = offered_loads(plant)
    worst = max(free, key=lambda j: loads[j])
    return (worst, float(loads[worst])) if loads[worst] >= 1.0 else None
