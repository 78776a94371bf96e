"""Floor geometry: the aisle graph of a plant's layout and the driving distances between the
places vehicles use (station docks, the shipping point, fleet homes, chargers).

The graph is built once, from NumPy arrays, when a plant is checked or compiled:

1. Aisles are segments: every polyline of ``layout.aisles`` split at its vertices, plus the
   lines of ``layout.grid`` (each runs the whole floor between the margins).
2. Segments are cut wherever they cross or touch another segment, so that crossing aisles share
   a node.
3. Each place joins the nearest segment at its projection onto it (a new node on that segment)
   by a straight access leg from the place to the projection.
4. Nodes closer than `TOLERANCE` are merged, and SciPy's Dijkstra
   (``scipy.sparse.csgraph.shortest_path``) gives the shortest path between every two places.

It lives in the config package because the config's own checks (`twin.config.layout`) need
the graph to say which places no aisle reaches; compiling, the trace and the viewer use it
too. It takes the plant by duck typing (``plant.layout``, ``plant.stations``,
``plant.transport``) and imports nothing else from `twin`. Lengths are metres, x along the hall
and y across it.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, shortest_path
from scipy.spatial import cKDTree

TOLERANCE = 1e-6
"""Metres: points closer than this are one node, and a point this close to a segment touches it."""


@dataclass(frozen=True, eq=False)
class Geometry:
    """Where a plant's places are and how far apart they are along the aisles.

    Places come in a fixed order that the engine relies on: the J station docks in config
    order (``"station:<id>"``), then the shipping point (``"shipping"``), then for each fleet in
    config order its home if it has one (``"home:<fleet>"``) and its chargers
    (``"charger:<fleet>:<i>"``).

    Attributes
    ----------
    places : tuple of str, length P
        Place names, in the order above.
    points : ndarray, shape (P, 2)
        [x, y] of each place in metres; NaN for a place that is not on the floor (a station
        with neither position nor dock, a missing shipping point, a station whose dock would
        default to an aisle point when there are no aisles).
    distance : ndarray, shape (P, P)
        Shortest driving distance in metres from place i (axis 0) to place j (axis 1), access
        legs included; symmetric, 0 on the diagonal, inf where no path joins them.
    homes : dict of str to int
        Fleet id -> place index of its home, for fleets with a home.
    chargers : dict of str to list of int
        Fleet id -> place indices of its chargers (empty for fleets without a battery).
    aisle_nodes : ndarray, shape (N, 2)
        [x, y] of the nodes of the aisle graph (crossings, ends, where places join).
    aisle_edges : ndarray of int, shape (E, 2)
        Pairs of `aisle_nodes` indices joined by a straight piece of aisle.
    """

    places: tuple[str, ...]
    points: np.ndarray
    distance: np.ndarray
    homes: dict[str, int]
    chargers: dict[str, list[int]]
    aisle_nodes: np.ndarray
    aisle_edges: np.ndarray


def plant_geometry(plant: Any) -> Geometry | None:
    """The geometry of a plant's layout, or None when the plant has no layout.

    Parameters
    ----------
    plant : twin.config.Plant or any object with the same attributes
        Uses ``layout`` (``floor``, ``aisles``, ``grid``, ``shipping``), each station's
        ``position`` and ``dock``, and each fleet's ``id``, ``home`` and ``battery.chargers``.
    """
    layout = plant.layout
    if layout is None:
        return None
    segments, _ = aisle_segments(layout)
    stations = plant.stations
    positions = _points([s.position if s.dock is None else None for s in stations])
    docks = _points([s.dock for s in stations])
    defaulted = ~np.isnan(positions[:, 0])
    if len(segments):
        docks[defaulted] = nearest_aisle_points(positions[defaulted], segments)[0]

    places = [f"station:{s.id}" for s in stations] + ["shipping"]
    coordinates = [*docks, _point(layout.shipping)]
    homes: dict[str, int] = {}
    chargers: dict[str, list[int]] = {}
    for fleet in plant.transport:
        if fleet.home is not None:
            homes[fleet.id] = len(places)
            places.append(f"home:{fleet.id}")
            coordinates.append(_point(fleet.home))
        at = fleet.battery.chargers if fleet.battery is not None else []
        chargers[fleet.id] = list(range(len(places), len(places) + len(at)))
        places += [f"charger:{fleet.id}:{i}" for i in range(len(at))]
        coordinates += [_point(c) for c in at]

    points = np.array(coordinates, dtype=np.float64).reshape(-1, 2)
    nodes, edges, distance = aisle_network(segments, points)
    return Geometry(tuple(places), points, distance, homes, chargers, nodes, edges)


def aisle_segments(layout: Any) -> tuple[np.ndarray, np.ndarray]:
    """The straight pieces of a layout's aisles, zero-length pieces left out.

    Returns
    -------
    segments : ndarray, shape (S, 2, 2)
        ``segments[s] = [[x0, y0], [x1, y1]]``, the two ends of segment s.
    owners : ndarray of int, shape (S,)
        Index into ``layout.aisles`` of the polyline each segment belongs to; -1 for a grid line.
    """
    pieces = [np.zeros((0, 2, 2))]
    owners = [np.zeros(0, dtype=np.int64)]
    for i, line in enumerate(layout.aisles):
        vertices = np.asarray(line, dtype=np.float64)
        pieces.append(np.stack([vertices[:-1], vertices[1:]], axis=1))
        owners.append(np.full(len(vertices) - 1, i))
    if layout.grid is not None:
        lines = _grid_lines(layout.floor, layout.grid.spacing, layout.grid.margin)
        pieces.append(lines)
        owners.append(np.full(len(lines), -1))
    segments, owner = np.concatenate(pieces), np.concatenate(owners)
    keep = np.linalg.norm(segments[:, 1] - segments[:, 0], axis=1) > TOLERANCE
    return segments[keep], owner[keep]


def nearest_aisle_points(
    points: np.ndarray, segments: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each point meets its nearest segment (the first one of equally near ones).

    Parameters
    ----------
    points : ndarray, shape (P, 2)
    segments : ndarray, shape (S, 2, 2), S >= 1, no zero-length segment

    Returns
    -------
    projections : ndarray, shape (P, 2)
        The point of the nearest segment closest to each point.
    nearest : ndarray of int, shape (P,)
        Index of that segment.
    t : ndarray, shape (P,)
        Where on the segment the projection lies, 0 at its first end and 1 at its second.
    """
    start, along = segments[:, 0], segments[:, 1] - segments[:, 0]
    offset = points[:, None, :] - start[None]  # (P, S, 2)
    t = np.clip((offset * along[None]).sum(-1) / (along * along).sum(-1), 0.0, 1.0)
    foot = start[None] + t[..., None] * along[None]  # (P, S, 2)
    nearest = np.argmin(np.linalg.norm(foot - points[:, None, :], axis=-1), axis=1)
    rows = np.arange(len(points))
    return foot[rows, nearest], nearest, t[rows, nearest]


def aisle_network(
    segments: np.ndarray, points: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The aisle graph and the shortest driving distances between points.

    Parameters
    ----------
    segments : ndarray, shape (S, 2, 2)
        Aisle segments (see `aisle_segments`).
    points : ndarray, shape (P, 2)
        Places; rows with NaN are not on the floor and get inf distances.

    Returns
    -------
    aisle_nodes : ndarray, shape (N, 2)
    aisle_edges : ndarray of int, shape (E, 2)
    distance : ndarray, shape (P, P)
        As in `Geometry`.
    """
    count = len(points)
    distance = np.full((count, count), np.inf)
    np.fill_diagonal(distance, 0.0)
    on_floor = np.flatnonzero(~np.isnan(points).any(axis=1))
    if len(segments) == 0:
        return np.zeros((0, 2)), np.zeros((0, 2), dtype=np.int64), distance

    start, along = segments[:, 0], segments[:, 1] - segments[:, 0]
    length = np.linalg.norm(along, axis=1)
    feet, joined, t_join = nearest_aisle_points(points[on_floor], segments)
    crossing_on, crossing_t = _crossings(segments)
    cut_on = np.concatenate([np.arange(len(segments)), np.arange(len(segments)), crossing_on,
                             joined])
    cut_t = np.concatenate([np.zeros(len(segments)), np.ones(len(segments)), crossing_t, t_join])
    order = np.lexsort((cut_t, cut_on))
    cut_on, cut_t = cut_on[order], cut_t[order]
    cuts = start[cut_on] + cut_t[:, None] * along[cut_on]
    foot_cut = np.argsort(order)[len(cut_t) - len(joined):]  # where each foot went in the sort

    label = _merge(np.concatenate([cuts, points[on_floor]]))
    cut_label, place_label = label[: len(cuts)], label[len(cuts):]
    same = cut_on[1:] == cut_on[:-1]
    aisle_from, aisle_to = cut_label[:-1][same], cut_label[1:][same]
    aisle_length = (cut_t[1:] - cut_t[:-1])[same] * length[cut_on[1:][same]]
    ends = np.concatenate([np.stack([aisle_from, aisle_to], 1),
                           np.stack([place_label, cut_label[foot_cut]], 1)])
    weights = np.concatenate([aisle_length,
                              np.linalg.norm(points[on_floor] - feet, axis=1)])
    ends, weights = _shortest_edges(ends, weights)

    size = label.max() + 1
    graph = coo_matrix((np.concatenate([weights, weights]),
                        (np.concatenate([ends[:, 0], ends[:, 1]]),
                         np.concatenate([ends[:, 1], ends[:, 0]]))), shape=(size, size)).tocsr()
    if len(on_floor):
        reached = shortest_path(graph, method="D", directed=False, indices=place_label)
        distance[np.ix_(on_floor, on_floor)] = reached[:, place_label]
        np.fill_diagonal(distance, 0.0)

    aisle_labels, first = np.unique(cut_label, return_index=True)
    renumber = np.full(size, -1)
    renumber[aisle_labels] = np.arange(len(aisle_labels))
    aisle = (renumber[ends] >= 0).all(axis=1)
    return cuts[first], renumber[ends[aisle]], distance


def _crossings(segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where segments cross or touch other segments, as (segment index, t along it) pairs.

    Two kinds of meeting: two non-parallel segments crossing (an end touching the other
    segment included), and an end of one segment lying on another (which also covers
    overlapping collinear segments). Returns two arrays of shape (C,).
    """
    start, along = segments[:, 0], segments[:, 1] - segments[:, 0]
    length = np.linalg.norm(along, axis=1)
    slack = TOLERANCE / length  # the tolerance as a fraction of each segment
    denominator = _cross(along[:, None], along[None])  # (S, S): i's direction x j's
    offset = start[None] - start[:, None]  # (S, S, 2): j's start - i's start
    parallel = np.abs(denominator) <= 1e-12 * length[:, None] * length[None]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # parallel: unused
        t = _cross(offset, along[None]) / denominator  # along i
        u = _cross(offset, along[:, None]) / denominator  # along j
    meet = (~parallel & (t >= -slack[:, None]) & (t <= 1 + slack[:, None])
            & (u >= -slack[None]) & (u <= 1 + slack[None]))
    i, j = np.nonzero(meet)

    ends = np.concatenate([segments[:, 0], segments[:, 1]])  # (2S, 2)
    owner = np.concatenate([np.arange(len(segments))] * 2)
    reach = ends[:, None] - start[None]  # (2S, S, 2)
    s = np.clip((reach * along[None]).sum(-1) / length**2, 0.0, 1.0)
    gap = np.linalg.norm(reach - s[..., None] * along[None], axis=-1)
    end, on = np.nonzero((gap <= TOLERANCE) & (owner[:, None] != np.arange(len(segments))))

    return (np.concatenate([i, j, on]),
            np.clip(np.concatenate([t[i, j], u[i, j], s[end, on]]), 0.0, 1.0))


def _merge(points: np.ndarray) -> np.ndarray:
    """Node label of each point, shape (P,): points within `TOLERANCE` (in chains) share one."""
    pairs = cKDTree(points).query_pairs(TOLERANCE, output_type="ndarray")
    links = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                       shape=(len(points), len(points)))
    return connected_components(links, directed=False)[1]


def _shortest_edges(ends: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges without loops and with one (the shortest) edge per pair of nodes.

    `ends` has shape (E, 2), `weights` shape (E,); returned pairs are sorted (low, high).
    """
    ends = np.sort(ends, axis=1)
    keep = ends[:, 0] != ends[:, 1]
    ends, weights = ends[keep], weights[keep]
    order = np.lexsort((weights, ends[:, 1], ends[:, 0]))
    ends, weights = ends[order], weights[order]
    first = np.ones(len(ends), dtype=bool)
    first[1:] = (ends[1:] != ends[:-1]).any(axis=1)
    return ends[first], weights[first]


def _grid_lines(floor: Any, spacing: Any, margin: float) -> np.ndarray:
    """The grid's segments, shape (L, 2, 2): lines along x every spacing[1] metres and along y
    every spacing[0] metres, starting `margin` from the walls and running between the margins."""
    (length, width), (dx, dy) = floor, spacing
    ys = _steps(margin, width - margin, dy)
    xs = _steps(margin, length - margin, dx)
    along_x = [[[margin, y], [length - margin, y]] for y in ys]
    along_y = [[[x, margin], [x, width - margin]] for x in xs]
    return np.array(along_x + along_y, dtype=np.float64).reshape(-1, 2, 2)


def _steps(low: float, high: float, step: float) -> np.ndarray:
    """low, low + step, ... up to high (within the tolerance); empty when high < low."""
    if high < low - TOLERANCE:
        return np.zeros(0)
    return low + step * np.arange(int(np.floor((high - low + TOLERANCE) / step)) + 1)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """z of the cross product of [..., 2] vectors."""
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _point(xy: Any) -> np.ndarray:
    return np.array([np.nan, np.nan] if xy is None else xy, dtype=np.float64)


def _points(items: list[Any]) -> np.ndarray:
    """(n, 2) array of optional points, NaN rows for None."""
    return np.array([_point(xy) for xy in items], dtype=np.float64).reshape(-1, 2)
