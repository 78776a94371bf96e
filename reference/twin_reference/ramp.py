"""Time-varying ("ramp") pieces of the SimPy reference model (``simpy_model``): values that
change at given hours, the event that applies a change, a gate whose capacity changes, the
non-homogeneous Poisson release, and areas split over report periods.

A plan is a list of *steps* ``[(from_h, value), ...]``: ``value`` is in force from hour
``from_h`` (inclusive) until the next step's ``from_h``; the first step is from 0 and the
``from_h`` increase strictly. A change at hour ``t`` happens before every other event at ``t``
(it is scheduled with SimPy's ``URGENT`` priority), so a job that starts, is routed or arrives
at ``t`` sees the value from ``t``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from typing import TypeVar

import simpy
from simpy.events import URGENT

T = TypeVar("T")

Steps = list[tuple[float, T]]
"""``(from hour, value)`` pairs, the first from 0, ``from`` strictly increasing."""


def checked_steps(where: str, steps: Sequence[tuple[float, object]]) -> None:
    """Raise ValueError, naming ``where``, unless ``steps`` is a plan: non-empty, the first
    from 0 and the ``from`` hours strictly increasing."""
    froms = [from_h for from_h, _ in steps]
    if not froms or froms[0] != 0.0:
        raise ValueError(f"{where} needs steps [(from_h, value), ...], the first from 0, "
                         f"got {list(steps)}")
    if any(b <= a for a, b in zip(froms, froms[1:], strict=False)):
        raise ValueError(f"{where}: step hours must increase strictly, got {froms}")


def value_at(steps: Steps[T], hour: float) -> T:
    """The value of ``steps`` in force at ``hour`` (a step from ``hour`` is in force)."""
    return steps[bisect.bisect_right([from_h for from_h, _ in steps], hour) - 1][1]


class Change(simpy.events.Event):
    """An event at ``hour`` that comes before every other event at that hour."""

    def __init__(self, env: simpy.Environment, hour: float) -> None:
        super().__init__(env)
        self._ok, self._value = True, None
        env.schedule(self, URGENT, hour - env.now)


def follow(env: simpy.Environment, steps: Steps[T], apply: Callable[[T], None]):
    """A process that calls ``apply(value)`` at each step after the first (the first is in
    force from the start: its owner sets it up)."""
    for from_h, value in steps[1:]:
        yield Change(env, from_h)
        apply(value)


class Gate(simpy.Resource):
    """A FIFO ``simpy.Resource`` whose capacity changes (``resize``), possibly to 0. A raised
    capacity grants waiting requests at once, in order; a lowered one takes nothing back: the
    holders beyond it keep their slots, and a slot given back while the holders are still at
    or over the capacity is gone."""

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        super().__init__(env, max(capacity, 1))
        self._capacity = capacity

    def resize(self, capacity: int) -> None:
        self._capacity = capacity
        while self.put_queue and len(self.users) < capacity:  # each call grants the head
            self._trigger_put(None)


def nhpp_delay(froms: list[float], rates: list[float], now: float, e: float) -> float:
    """Hours from ``now`` to the next event of a Poisson process of piecewise-constant rate
    (``rates[k]`` per hour from ``froms[k]``, the last for ever), given a unit exponential
    ``e``: the inverse of the cumulative rate, ``Lambda(now + d) - Lambda(now) = e``."""
    k, last = bisect.bisect_right(froms, now) - 1, len(froms) - 1
    t = now
    while k < last and e > (room := rates[k] * (froms[k + 1] - t)):
        e -= room
        t = froms[k + 1]
        k += 1
    return t + e / rates[k] - now


def period_edges(start: float, end: float, period: float) -> list[float]:
    """Edges of the periods that tile ``[start, end]`` from ``start``: ``start + k * period``
    while below ``end``, then ``end``. The last period may be shorter than ``period``; one
    shorter than a millionth of a period is rounding, not a period."""
    edges = []
    k = 0
    while (edge := start + k * period) < end - 1e-6 * period:
        edges.append(edge)
        k += 1
    return [*edges, end]


def period_of(edges: list[float], hour: float) -> int:
    """The period holding ``hour`` in ``[edges[0], edges[-1]]``: an hour at an inner edge is
    in the later period, the window's end in the last."""
    return min(bisect.bisect_right(edges, hour), len(edges) - 1) - 1


class PeriodArea:
    """Area under a piecewise-constant level clipped to the window ``[edges[0], edges[-1]]``,
    in total (``area``, summed as ``simpy_model._WindowArea`` sums it) and per period
    (``areas[k]`` over ``[edges[k], edges[k + 1]]``), with the largest level held for a
    positive time in each period (``peaks[k]``; ``-inf`` if none). ``add(now, delta)`` moves
    the level by ``delta`` at ``now``; times never decrease."""

    __slots__ = ("area", "areas", "edges", "k", "last", "peaks", "value")

    def __init__(self, edges: list[float], value: float = 0) -> None:
        self.edges = edges
        self.value = value
        self.last = 0.0
        self.area = 0.0
        self.areas = [0.0] * (len(edges) - 1)
        self.peaks = [-math.inf] * (len(edges) - 1)
        self.k = 0  # the period that holds max(last, start)

    @property
    def start(self) -> float:
        return self.edges[0]

    @property
    def end(self) -> float:
        return self.edges[-1]

    def add(self, now: float, delta: float) -> None:
        edges = self.edges
        lo = max(edges[0], self.last)
        hi = min(edges[-1], now)
        if hi > lo:
            v = self.value
            self.area += v * (hi - lo)
            k, last = self.k, len(edges) - 2
            while True:
                top = edges[k + 1]
                piece = min(hi, top) - lo
                if piece > 0:
                    self.areas[k] += v * piece
                    self.peaks[k] = max(self.peaks[k], v)
                if hi < top or k == last:
                    break
                lo = top
                k += 1
            self.k = k
        self.last = now
        self.value += delta
