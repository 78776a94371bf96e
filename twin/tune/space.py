"""The search space: each decision variable of `tune.variables` as Optuna suggestions, and a
candidate plant made from the input file with only those fields changed.

A candidate is built on the parsed YAML of the input (so that it is validated exactly like a
file a user writes: the layout validator included), and its file is written by a round-trip
YAML writer that keeps the input's comments, order and formatting. A candidate whose tuned
`from`s leave a schedule's steps out of time order is rejected before that (`order_problem`)."""

from __future__ import annotations

import copy
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.util import load_yaml_guess_indent

from twin.config import ConfigError, Plant, plant_from_text
from twin.config.tuning import Variable, quantity
from twin.errors import TwinError
from twin.units import in_unit_of, parse_duration

PRIMITIVE = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Dimension:
    """One variable of the space: its path, its form and how to suggest and write it."""

    path: str
    spec: Variable

    @property
    def kind(self) -> str:
        """``int``, ``float``, ``quantity``, ``choice``, ``region`` or ``places``."""
        spec = self.spec
        if spec.choices is not None:
            return "choice"
        if spec.region is not None:
            return "region"
        if spec.places is not None:
            return "places"
        if spec.is_integer:
            return "int"
        return "quantity" if quantity(spec.min)[1] else "float"

    def suggest(self, trial) -> Any:
        """Ask ``trial`` (an Optuna trial) for this variable; return its value as the plant
        file writes it."""
        spec, name = self.spec, self.path
        kind = self.kind
        if kind == "int":
            return trial.suggest_int(name, spec.min, spec.max, step=int(spec.step or 1),
                                     log=spec.log)
        if kind in ("float", "quantity"):
            low, high, step = spec.span()
            value = trial.suggest_float(name, low, high, step=step, log=spec.log)
            return _written(value, spec) if kind == "quantity" else value
        if kind == "choice":
            if all(isinstance(c, PRIMITIVE) for c in spec.choices):
                return trial.suggest_categorical(name, spec.choices)
            return copy.deepcopy(spec.choices[trial.suggest_categorical(
                name, list(range(len(spec.choices))))])
        if kind == "places":
            return list(spec.places[trial.suggest_categorical(
                name, list(range(len(spec.places))))])
        (x0, x1), (y0, y1), step = spec.region.x, spec.region.y, spec.step
        i = trial.suggest_int(f"{name}.x", 0, math.floor((x1 - x0) / step + 1e-9))
        j = trial.suggest_int(f"{name}.y", 0, math.floor((y1 - y0) / step + 1e-9))
        return [x0 + i * step, y0 + j * step]


class Space:
    """The decision variables of a plant's `tune` section, over its input file."""

    def __init__(self, path: str | Path, plant: Plant):
        self.source = str(path)
        self.text = Path(path).read_text(encoding="utf-8")
        self._yaml = YAML()  # round-trip: keeps comments, key order and flow style
        self._yaml.width = 100
        # keep quotes as written: `end: "14:00"` unquoted would read as 840 (YAML 1.1 base 60)
        self._yaml.preserve_quotes = True
        _, sequence, offset = load_yaml_guess_indent(self.text)
        if sequence is not None and offset is not None:  # list items indented as in the input
            self._yaml.indent(sequence=sequence, offset=offset)
        self._yaml.Representer = _Representer
        self.base = self._yaml.load(self.text)
        self.plant = plant
        self.dimensions = [Dimension(p, v) for p, v in plant.tune.variables.items()]

    @property
    def paths(self) -> list[str]:
        return [d.path for d in self.dimensions]

    def suggest(self, trial) -> dict[str, Any]:
        """Values of every variable for an Optuna trial, by path."""
        return {d.path: d.suggest(trial) for d in self.dimensions}

    def document(self, values: dict[str, Any]):
        """The input file's YAML tree with ``values`` set at their paths (a deep copy)."""
        doc = copy.deepcopy(self.base)
        for path, value in values.items():
            set_path(doc, path, value)
        return doc

    def order_problem(self, values: dict[str, Any]) -> str | None:
        """Why the tuned `from`s of ``values`` leave a schedule's steps out of time order (each
        step must start after the one before), None if they do not. Such a candidate is an
        ordinary rejected one, not a mistake in the tune section: a range of phase starts
        may well overlap the next phase's."""
        for schedule in dict.fromkeys(s for s in map(_schedule_of, values) if s):
            steps = get_path(self.base, schedule)
            paths = [f"{schedule}.{i}.from" for i in range(len(steps))]
            written = [values.get(path, step.get("from")) for path, step in zip(
                paths, steps, strict=True)]
            try:
                starts = [parse_duration(w) for w in written]
            except ValueError:
                continue  # a start that is not a duration: the plant's own check says so
            for i in range(1, len(starts)):
                if starts[i] <= starts[i - 1]:
                    return (f"phases out of order: {paths[i]} {written[i]} is not after "
                            f"{paths[i - 1]} {written[i - 1]}; each step of a schedule starts "
                            "after the one before")
        return None

    def plant_for(self, values: dict[str, Any]) -> Plant:
        """Validate the candidate; raises ConfigError (its first problem says why not)."""
        return plant_from_text(self.dump(values), self.source)

    def dump(self, values: dict[str, Any]) -> str:
        """The candidate's plant file: the input with only the variables changed."""
        buf = io.StringIO()
        self._yaml.dump(self.document(values), buf)
        return buf.getvalue()

    def check_bounds(self) -> None:
        """Every variable at its lowest and highest value must give a field the plant accepts
        (other problems at these corners, such as overlaps, only reject those candidates)."""
        for dim in self.dimensions:
            for end in _extremes(dim):
                if self.order_problem({dim.path: end}):
                    continue  # that end only rejects the candidates that reach it
                try:
                    self.plant_for({dim.path: end})
                except ConfigError as err:
                    mine = [p for p in err.problems if _names_path(p, dim.path, self.plant)]
                    if mine:
                        raise TwinError(f"{self.source}: tune.variables.{dim.path}: the value "
                                        f"{end!r} is not valid there: "
                                        f"{_message_of(mine[0])}") from None


class _Representer(RoundTripRepresenter):
    """The round-trip writer, with None as ``null`` as plant files write it (not empty)."""


_Representer.add_representer(
    type(None), lambda rep, _value: rep.represent_scalar("tag:yaml.org,2002:null", "null"))


def _written(value: float, spec: Variable) -> str:
    """``value`` (hours or kW) in the unit of `min`; in that of a `step` given with a unit
    when that of `min` cannot write it exactly (15 days with `min: 1w, step: 1d` is `15d`,
    not `2.14286w`)."""
    text = in_unit_of(value, spec.min)
    if isinstance(spec.step, str) and not math.isclose(quantity(text)[0], value, rel_tol=1e-12):
        return in_unit_of(value, spec.step)
    return text


def _extremes(dim: Dimension) -> list[Any]:
    spec = dim.spec
    if dim.kind in ("int", "float", "quantity"):
        return [spec.min, spec.max]
    if dim.kind == "choice":
        return list(spec.choices)
    return []  # positions: a bad place is an ordinary rejected candidate


def _names_path(problem: str, path: str, plant: Plant) -> bool:
    """Whether a one-line problem is about the field at ``path`` (``stations[3].servers``)."""
    from twin.config.tuning import resolve_path

    loc, _, _ = resolve_path(plant, path)
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    return f" {text}:" in problem or f" {text}." in problem


def _schedule_of(path: str) -> str | None:
    """The schedule whose step's start ``path`` is (``stations.burn_in.servers`` for
    ``stations.burn_in.servers.1.from``), None for any other path."""
    head, _, last = path.rpartition(".")
    schedule, _, index = head.rpartition(".")
    return schedule if last == "from" and index.isdigit() and schedule else None


def _message_of(problem: str) -> str:
    """The message of a ``file:line: path: message`` problem."""
    return problem.split(": ", 2)[-1]


def set_path(doc: Any, path: str, value: Any) -> None:
    """Set ``value`` at ``path`` (dots; list items by id or index) in a parsed YAML tree.

    Moving a station that has an explicit `dock` moves the dock with it."""
    parts = path.split(".")
    node = doc
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[_index(node, part)]
        else:
            if node.get(part) is None:
                node[part] = {}
            node = node[part]
    last = parts[-1]
    if parts[0] == "products" and len(parts) == 2:
        _set_share(node, last, value)
        return
    if last == "position" and isinstance(node, dict) and node.get("dock") is not None and \
            node.get("position") is not None:
        dx, dy = (float(value[k]) - float(node["position"][k]) for k in (0, 1))
        node["dock"] = [float(node["dock"][0]) + dx, float(node["dock"][1]) + dy]
    node[last] = value


def _set_share(products: dict, name: str, value: Any) -> None:
    """Give product ``name`` the share ``value``; the other products share the rest in the
    proportions they had (equally if they had none)."""
    share = min(max(float(value), 0.0), 1.0)
    others = [p for p in products if p != name]
    before = sum(float(products[p]) for p in others)
    for p in others:
        products[p] = (1.0 - share) * (float(products[p]) / before if before > 0
                                       else 1.0 / len(others))
    products[name] = share


def get_path(doc: Any, path: str) -> Any:
    """The value at ``path`` in a parsed YAML tree, None where absent."""
    node = doc
    for part in path.split("."):
        if isinstance(node, list):
            node = node[_index(node, part)]
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
        if node is None:
            return None
    return node


def _index(items: list, part: str) -> int:
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("id") == part:
            return i
    return int(part)
