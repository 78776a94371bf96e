"""Tests of the floor geometry (twin.config.geometry) and of the layout checks (twin.config.layout):
exact distances on hand-drawn aisles, the order of places, every layout message through
`plant_from_dict`, and the metric properties of driving distances."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.config import plant_from_dict
from twin.config.geometry import TOLERANCE, plant_geometry
from twin.config.layout import Layout
from twin.errors import ConfigError


def station(id: str, **fields) -> dict:
    return {"id": id, "process": "1h", **fields}


def plant(stations: list[dict], aisles: list | None = None, **layout) -> dict:
    """A plant dict on a 40 x 20 m floor with the given aisles and layout fields."""
    fleets = layout.pop("transport", [])
    return {
        "name": "floor",
        "horizon": "100h",
        "source": {"interarrival": "1h"},
        "stations": stations,
        "layout": {"floor": [40, 20], "aisles": aisles or [], **layout},
        "transport": fleets,
    }


def fleet(id: str = "agv", **fields) -> dict:
    return {"id": id, "kind": "agv", "count": 1, "speed": 1.0, **fields}


def distances(aisles: list, docks: list[list[float]]) -> np.ndarray:
    """Driving distances between stations docked at `docks`, shape (J, J)."""
    data = plant([station(f"s{j}", dock=d) for j, d in enumerate(docks)], aisles)
    return plant_geometry(plant_from_dict(data)).distance[: len(docks), : len(docks)]


def problems(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        plant_from_dict(data)
    return info.value.problems


def only_problem(data: dict) -> str:
    (problem,) = problems(data)
    return problem


# --------------------------------------------------------------------------------------------
# Distances on hand-drawn aisles
# --------------------------------------------------------------------------------------------


def test_an_l_shaped_aisle_is_driven_around_its_corner():
    aisle = [[0, 1], [10, 1], [10, 6]]
    d = distances([aisle], [[2, 1], [10, 6], [10, 1]])
    assert d.tolist() == [[0, 13, 8], [13, 0, 5], [8, 5, 0]]


def test_crossing_aisles_share_a_node_and_access_legs_count():
    cross = [[[0, 5], [10, 5]], [[5, 0], [5, 10]]]
    d = distances(cross, [[0, 5], [5, 10], [2, 6], [5, 9], [8, 2]])
    assert d[0, 1] == 10  # 5 along x to the crossing, 5 up
    assert d[2, 3] == 1 + 3 + 4  # leg from (2, 6) to (2, 5), to the crossing, up to (5, 9)
    assert d[2, 4] == 1 + 3 + 3 + 3  # down to (5, 2), where (8, 2) joins by a 3 m leg


def test_an_aisle_ending_on_another_joins_it():
    t_junction = [[[0, 0], [10, 0]], [[5, 0], [5, 5]]]
    assert distances(t_junction, [[0, 0], [5, 5]])[0, 1] == 10
    near_miss = [[[0, 0], [5, 0]], [[5, 1e-7], [5, 5]]]  # the ends merge, 1e-7 m apart
    assert distances(near_miss, [[0, 0], [5, 5]])[0, 1] == pytest.approx(10)


def test_overlapping_aisles_are_one_road():
    overlapping = [[[0, 0], [6, 0]], [[4, 0], [10, 0]]]
    data = plant([station("a", dock=[0, 0]), station("b", dock=[10, 0])], overlapping)
    geometry = plant_geometry(plant_from_dict(data))
    assert geometry.distance[0, 1] == 10
    assert sorted(geometry.aisle_nodes[:, 0].tolist()) == [0, 4, 6, 10]
    assert len(geometry.aisle_edges) == 3  # the shared piece [4, 6] once


def test_two_points_joining_the_middle_of_one_segment_drive_between_them():
    d = distances([[[0, 2], [10, 2]]], [[3, 4], [7, 1], [3, 2]])
    assert d[0, 1] == 2 + 4 + 1
    assert d[0, 2] == 2


def test_a_grid_gives_manhattan_distances_between_its_lines():
    data = plant([station("a", dock=[5, 5]), station("b", dock=[25, 15]),
                  station("c", dock=[12, 9])], grid={"spacing": [10, 10], "margin": 5})
    geometry = plant_geometry(plant_from_dict(data))
    # lines along x at y = 5, 15 from x = 5 to 35; along y at x = 5, 15, 25, 35 from y = 5 to 15
    assert geometry.distance[0, 1] == 30
    assert geometry.distance[2, 0] == 3 + 4 + 10  # (12, 9) joins x = 15 at (15, 9)
    assert len(geometry.aisle_nodes) == 2 * 4 + 1  # the crossings and where (12, 9) joins
    assert len(geometry.aisle_edges) == 2 * 3 + 4 + 1


def test_aisles_that_never_meet_leave_no_path():
    d = distances([[[0, 0], [10, 0]], [[0, 5], [10, 5]]], [[1, 0], [9, 5]])
    assert d.tolist() == [[0, math.inf], [math.inf, 0]]


def test_the_aisle_graph_lists_nodes_and_segments_for_the_viewer():
    data = plant([station("a", dock=[0, 5])], [[[0, 5], [10, 5]], [[5, 0], [5, 10]]])
    geometry = plant_geometry(plant_from_dict(data))
    nodes = {tuple(xy) for xy in geometry.aisle_nodes.tolist()}
    assert nodes == {(0, 5), (10, 5), (5, 0), (5, 10), (5, 5)}
    centre = geometry.aisle_nodes.tolist().index([5, 5])
    assert geometry.aisle_edges.shape == (4, 2)
    assert (geometry.aisle_edges == centre).any(axis=1).all()
    off_floor = plant_geometry(plant_from_dict({**data, "stations": [station("a")]}))
    assert len(off_floor.aisle_nodes) == 5 and len(off_floor.aisle_edges) == 4  # no place joins


# --------------------------------------------------------------------------------------------
# Places
# --------------------------------------------------------------------------------------------


def test_places_come_in_the_documented_order():
    battery = {"capacity": "8h", "charge_time": "1h", "threshold": 0.2}
    data = plant(
        [station("a", dock=[1, 1]), station("b", dock=[5, 1])],
        [[[0, 1], [40, 1]]],
        shipping=[39, 1],
        transport=[fleet("agv", home=[2, 1], battery={**battery, "chargers": [[3, 1], [4, 1]]}),
                   fleet("cart", battery={**battery, "chargers": [[6, 1]]}),
                   fleet("fork", home=[7, 1])],
    )
    geometry = plant_geometry(plant_from_dict(data))
    assert geometry.places == ("station:a", "station:b", "shipping", "home:agv",
                               "charger:agv:0", "charger:agv:1", "charger:cart:0", "home:fork")
    assert geometry.points[:, 0].tolist() == [1, 5, 39, 2, 3, 4, 6, 7]
    assert geometry.homes == {"agv": 3, "fork": 7}
    assert geometry.chargers == {"agv": [4, 5], "cart": [6], "fork": []}


def test_a_dock_defaults_to_the_aisle_point_nearest_the_station():
    data = plant([station("a", position=[4, 3], footprint=[2, 2]),
                  station("b", position=[20, 8], dock=[20, 6]),
                  station("c")], [[[0, 0], [40, 0]]])
    geometry = plant_geometry(plant_from_dict(data))
    assert geometry.points[:2].tolist() == [[4, 0], [20, 6]]
    assert geometry.distance[0, 1] == 16 + 6
    assert np.isnan(geometry.points[2]).all()  # neither position nor dock: not on the floor
    assert np.isinf(geometry.distance[2, :2]).all() and geometry.distance[2, 2] == 0
    assert np.isnan(geometry.points[3]).all()  # no shipping point


def test_no_layout_no_geometry():
    data = plant([station("a")])
    del data["layout"]
    assert plant_geometry(plant_from_dict(data)) is None


# --------------------------------------------------------------------------------------------
# Layout checks, each through plant_from_dict
# --------------------------------------------------------------------------------------------

AISLE = [[0, 1], [40, 1]]
"""One aisle along the floor, 1 m from the wall at y = 0."""


def test_a_plant_that_fits_its_floor_loads():
    data = plant([station("a", position=[5, 4], footprint=[4, 2], transport="agv"),
                  station("b", position=[9, 4], footprint=[4, 2])],  # touching 'a' is fine
                 [AISLE, [[3, 5], [11, 5]]],  # runs along the stations' top edges
                 transport=[fleet()])
    assert plant_from_dict(data).layout.floor == [40, 20]


def test_a_station_reaching_outside_the_floor_is_named_with_its_rectangle():
    message = only_problem(plant([station("a", position=[1, 10], footprint=[4, 2])]))
    assert message == (
        "<dict>: stations[0].position: station 'a' at [1, 10] covering [-1, 3] x [9, 11] "
        "reaches outside the floor [0, 40] x [0, 20]; move it inside or shrink its footprint"
    )


def test_rotation_turns_the_footprint():
    assert plant_from_dict(plant([station("a", position=[1.5, 10], footprint=[4, 2],
                                          rotation=90)]))
    message = only_problem(plant([station("a", position=[10, 19], footprint=[4, 2],
                                          rotation=270)]))
    assert "covering [9, 11] x [17, 21] reaches outside the floor" in message


def test_overlapping_stations_are_reported_once_per_pair():
    data = plant([station("a", position=[5, 5], footprint=[4, 2]),
                  station("b", position=[6, 6], footprint=[2, 2]),
                  station("c", position=[8, 10], footprint=[2, 2])])
    message = only_problem(data)
    assert message.startswith("<dict>: stations[1].position: stations 'a' at [5, 5] covering "
                              "[3, 7] x [4, 6] and 'b' at [6, 6] covering [5, 7] x [5, 7] overlap")
    assert message.endswith("; move one of them")


def test_a_station_on_an_aisle_centre_line_is_reported():
    message = only_problem(plant([station("a", position=[5, 1.5], footprint=[4, 2])], [AISLE]))
    assert message == (
        "<dict>: stations[0].position: station 'a' at [5, 1.5] covering [3, 7] x [0.5, 2.5] "
        "sits on the aisle `aisles[0]`; move the station off the aisle or the aisle around it"
    )
    grid = plant([station("a", position=[10, 10], footprint=[2, 2])],
                 grid={"spacing": [10, 10], "margin": 0})
    assert "sits on the aisle of the grid from [0, 10] to [40, 10]" in only_problem(grid)


def test_points_outside_the_floor_are_reported_where_they_are_written():
    battery = {"capacity": "8h", "charge_time": "1h", "threshold": 0.2, "chargers": [[5, 21]]}
    data = plant([station("a", dock=[41, 1])], [AISLE], shipping=[-1, 1],
                 transport=[fleet(home=[5, 25], battery=battery)])
    assert problems(data) == [
        ("<dict>: stations[0].dock: the dock [41, 1] of station 'a' is outside the floor "
         "[0, 40] x [0, 20]; move it inside"),
        ("<dict>: layout.shipping: the shipping point [-1, 1] is outside the floor "
         "[0, 40] x [0, 20]; move it inside"),
        ("<dict>: transport[0].home: the home [5, 25] of fleet 'agv' is outside the floor "
         "[0, 40] x [0, 20]; move it inside"),
        ("<dict>: transport[0].battery.chargers[0]: charger 0 [5, 21] of fleet 'agv' is outside "
         "the floor [0, 40] x [0, 20]; move it inside"),
    ]


def test_a_station_a_fleet_serves_needs_a_position_or_a_dock():
    data = plant([station("a", dock=[1, 1], transport="agv", next="b"), station("b")],
                 [AISLE], transport=[fleet()])
    assert only_problem(data) == (
        "<dict>: stations[1]: station 'b' is served by fleet 'agv' (it brings jobs from 'a') "
        "but has no place on the floor; it needs a position or a dock: add `position: [x, y]` "
        "(its dock is then the nearest aisle point) or `dock: [x, y]`"
    )
    origin = plant([station("a", transport="agv"), station("b", dock=[1, 1])], [AISLE],
                   transport=[fleet()])
    assert only_problem(origin).startswith(
        "<dict>: stations[0]: station 'a' is served by fleet 'agv' (it carries the station's "
        "jobs out) but has no place on the floor; it needs a position or a dock")


def test_a_layout_without_aisles_cannot_carry_a_fleet():
    data = plant([station("a", dock=[1, 1], transport="agv"), station("b", dock=[5, 1])],
                 transport=[fleet()])
    assert only_problem(data) == (
        "<dict>: layout.aisles: the layout has no aisles, so no dock, home, charger or shipping "
        "point reaches one and fleet(s) 'agv' cannot drive; add `aisles` or a `grid`"
    )


def test_stations_a_fleet_connects_need_an_aisle_path():
    apart = [AISLE, [[0, 10], [40, 10]]]
    data = plant([station("a", dock=[2, 1], transport="agv"), station("b", dock=[3, 10])],
                 apart, transport=[fleet()])
    assert only_problem(data) == (
        "<dict>: stations[0].transport: fleet 'agv' carries jobs from station 'a' (dock [2, 1]) "
        "to station 'b' (dock [3, 10]) but no aisle path joins them; connect their aisles"
    )
    shipping = plant([station("a", dock=[2, 1]), station("b", dock=[3, 1], transport="agv")],
                     apart, shipping=[39, 11], transport=[fleet()])
    assert "to the shipping point [39, 11] but no aisle path joins them" in only_problem(shipping)


def test_a_home_or_charger_off_the_fleets_aisles_is_reported():
    battery = {"capacity": "8h", "charge_time": "1h", "threshold": 0.2,
               "chargers": [[2, 1], [30, 9]]}
    data = plant([station("a", dock=[2, 1], transport="agv"), station("b", dock=[3, 1])],
                 [AISLE, [[0, 10], [40, 10]]], transport=[fleet(home=[1, 11], battery=battery)])
    assert problems(data) == [
        ("<dict>: transport[0].home: the home [1, 11] of fleet 'agv' has no aisle path to "
         "station 'a' (dock [2, 1]); move it to an aisle joined to the stations the fleet serves"),
        ("<dict>: transport[0].battery.chargers[1]: charger 1 [30, 9] of fleet 'agv' has no aisle "
         "path to station 'a' (dock [2, 1]); move it to an aisle joined to the stations the fleet "
         "serves"),
    ]


def test_a_battery_reserve_must_last_four_longest_drives_and_a_load_and_unload():
    # the fleet's places span 36 m of aisle: 4 x 36 m at 0.5 m/s = 0.08h, plus 0.02h handling
    def reserve(threshold: float) -> dict:
        battery = {"capacity": "1h", "charge_time": "1h", "threshold": threshold,
                   "chargers": [[38, 1]]}
        agv = fleet(speed=0.5, load_time="36s", unload_time="36s", battery=battery)
        return plant([station("a", dock=[2, 1], transport="agv"), station("b", dock=[20, 1])],
                     [AISLE], transport=[agv])

    assert plant_from_dict(reserve(0.1)).transport[0].battery.threshold == 0.1
    assert only_problem(reserve(0.08)) == (
        "<dict>: transport[0].battery.threshold: fleet 'agv' goes to charge with 0.08h of "
        "battery left (0.08 x 1h), but 4 of its longest drives (36 m at 0.5 m/s) plus a load "
        "and an unload take 0.1h, 0.02h short; raise `threshold` to at least 0.1 or "
        "`capacity` to at least 1.25h"
    )


def test_layout_checks_wait_for_a_sound_structure():
    data = plant([station("a", position=[1, 10], footprint=[4, 2], next="nowhere")])
    assert [p.split(": ")[1] for p in problems(data)] == ["stations[0].next"]


# --------------------------------------------------------------------------------------------
# Driving distances are a metric on the places that reach each other
# --------------------------------------------------------------------------------------------

coordinate = st.integers(0, 12).map(float) | st.floats(0, 12, allow_nan=False)
points = st.lists(st.tuples(coordinate, coordinate).map(list), min_size=2, max_size=4)


@settings(max_examples=150, deadline=None)
@given(aisles=st.lists(points, min_size=1, max_size=4), docks=st.lists(
    st.tuples(coordinate, coordinate).map(list), min_size=2, max_size=6))
def test_distances_are_symmetric_triangular_and_never_shorter_than_a_straight_line(aisles,
                                                                                     docks):
    layout = Layout(floor=[12, 12], aisles=aisles)
    stations = [SimpleNamespace(id=str(j), position=None, dock=d) for j, d in enumerate(docks)]
    geometry = plant_geometry(SimpleNamespace(layout=layout, stations=stations, transport=[]))
    d = geometry.distance[: len(docks), : len(docks)]
    xy = np.array(docks)
    straight = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
    assert np.allclose(d, d.T, rtol=0, atol=1e-9)
    assert (np.diag(d) == 0).all()
    assert (d[:, None, :] <= d[:, :, None] + d[None, :, :] + 1e-9).all()  # d[i,k] <= d[i,j]+d[j,k]
    assert (d >= straight - 10 * TOLERANCE).all()  # nodes closer than TOLERANCE are merged


@settings(max_examples=150, deadline=None)
@given(centre=st.tuples(st.floats(3, 9), st.floats(3, 9)),
       angles=st.tuples(st.floats(0, math.pi), st.floats(0.1, math.pi - 0.1)),
       reach=st.tuples(st.floats(0.5, 3), st.floats(0.5, 3), st.floats(0.5, 3), st.floats(0.5, 3)))
def test_two_aisles_crossing_anywhere_meet_where_they_cross(centre, angles, reach):
    """Straight aisles through a common point at any two angles: docks at their far ends are
    the two arms apart, whatever floating-point point the crossing falls on."""
    c = np.array(centre)
    first, second = angles[0], angles[0] + angles[1]
    ends = [c + r * np.array([np.cos(a), np.sin(a)])
            for r, a in zip(reach, (first, first + math.pi, second, second + math.pi), strict=True)]
    aisles = [[ends[0].tolist(), ends[1].tolist()], [ends[2].tolist(), ends[3].tolist()]]
    stations = [SimpleNamespace(id=str(j), position=None, dock=ends[j].tolist())
                for j in (0, 2)]
    layout = Layout(floor=[12, 12], aisles=aisles)
    geometry = plant_geometry(SimpleNamespace(layout=layout, stations=stations, transport=[]))
    assert geometry.distance[0, 1] == pytest.approx(reach[0] + reach[2], abs=10 * TOLERANCE)
