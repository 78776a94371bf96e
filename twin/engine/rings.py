"""Ring buffers (a station's queue, the power queue, a fleet's requests): place ``offset``
after ``head`` in a ring of ``size`` places, without an integer division."""

from __future__ import annotations

from twin.engine.jit import lane_function


@lane_function
def wrap(head, offset, size):
    """``(head + offset) % size`` for 0 <= head < size and 0 <= offset <= size."""
    place = head + offset
    return place - size if place >= size else place
