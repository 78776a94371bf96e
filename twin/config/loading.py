"""Reading a plant file: YAML with the line of every key, validation, and pydantic's errors
turned into one-line problems that name the file, the line, the field path and the fix."""

import difflib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)

from twin.config.models import DIST_NAMES, UNION_TAGS, Loc, Plant, model_at
from twin.errors import ConfigError, quote_value

# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

Lines = dict[tuple[Any, ...], int]


class _Finding(NamedTuple):
    """One problem before formatting: where it is (line, path in the data) and what it is."""

    line: int | None
    path: tuple[Any, ...]
    message: str


def load_plant(path: str | os.PathLike[str]) -> Plant:
    """Read and validate a plant config file.

    Raises
    ------
    ConfigError
        Listing every problem found, one line each, in the order of the file.
    """
    source = os.fspath(path)
    return plant_from_text(_read_text(Path(path), source), source)


def plant_from_text(text: str, source: str = "<text>") -> Plant:
    """Validate the text of a plant file (as if read from ``source``)."""
    data, lines, duplicates = _parse_yaml(text, source)
    return _validate(data, source, lines, duplicates)


def plant_from_dict(data: Any, source: str = "<dict>") -> Plant:
    """Validate an already-parsed config mapping; messages name `source` but no lines."""
    return _validate(data, source, {}, [])


def _read_text(path: Path, source: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problem = "file not found; check the path"
    except IsADirectoryError:
        problem = "is a directory; give the path of a YAML file"
    except UnicodeDecodeError as err:
        problem = f"is not UTF-8 text (byte {err.start}); save it as UTF-8"
    except OSError as err:
        problem = f"cannot be read ({err.strerror}); check its permissions"
    raise ConfigError([f"{source}: {problem}"])


def _parse_yaml(text: str, source: str) -> tuple[Any, Lines, list[_Finding]]:
    """Parse like ``yaml.safe_load``, also returning the line of every key and list item.

    Returns the data, a map from paths such as ``('stations', 2, 'process')`` to 1-based line
    numbers, and the duplicate keys found (which ``safe_load`` would silently overwrite).
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, []
        lines: Lines = {}
        duplicates: list[_Finding] = []
        _index_lines(loader, node, (), lines, duplicates)
        return loader.construct_document(node), lines, duplicates
    except yaml.YAMLError as err:
        raise ConfigError([_yaml_problem(err, source)]) from None
    finally:
        loader.dispose()


def _yaml_problem(err: yaml.YAMLError, source: str) -> str:
    mark = getattr(err, "problem_mark", None)
    where = f"{source}:{mark.line + 1}" if mark is not None else source
    what = ", ".join(filter(None, [getattr(err, "context", None), getattr(err, "problem", None)]))
    return (
        f"{where}: invalid YAML: {what or err}; fix the syntax there "
        "(indentation, quotes, brackets, one document per file)"
    )


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _index_lines(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: tuple[Any, ...],
    lines: Lines,
    duplicates: list[_Finding],
) -> None:
    """Record the line of each mapping key and sequence item under `node`, and duplicate keys."""
    if isinstance(node, yaml.MappingNode):
        children = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                # An unhashable key is reported when the document is constructed; keys merged
                # in by `<<: *anchor` have no line of their own here, so use the mapping's.
                continue
            key = loader.construct_object(key_node)
            line = key_node.start_mark.line + 1
            child = (*path, key)
            if child in lines:
                message = f"duplicate key '{key}' (first on line {lines[child]}); keep only one"
                duplicates.append(_Finding(line, child, message))
                continue
            lines[child] = line
            children.append((child, value_node))
    elif isinstance(node, yaml.SequenceNode):
        children = [((*path, i), item) for i, item in enumerate(node.value)]
        for child, item in children:
            lines[child] = item.start_mark.line + 1
    else:
        return
    for child, value_node in children:
        if len(child) < 64:  # a recursive alias (`&a [*a]`) would otherwise never end
            _index_lines(loader, value_node, child, lines, duplicates)


def _validate(data: Any, source: str, lines: Lines, findings: list[_Finding]) -> Plant:
    """Validate parsed data; raise one `ConfigError` with `findings` and every pydantic error."""
    if not isinstance(data, dict):
        findings = [*findings, _top_level_finding(data, 1 if lines else None)]
    else:
        try:
            plant = Plant.model_validate(data)
        except ValidationError as err:
            findings = [*findings, *(_describe(error, data, lines) for error in err.errors())]
    if findings:
        ordered = sorted(findings, key=lambda finding: finding.line or 0)
        raise ConfigError(_problem(source, *finding) for finding in ordered)
    return plant


def _top_level_finding(data: Any, line: int | None) -> _Finding:
    if data is None:
        return _Finding(
            None,
            (),
            (
                "the file is empty; a plant config is a mapping with `name`, `horizon`, "
                "`source` and `stations`"
            ),
        )
    kind = "list" if isinstance(data, list) else "single value"
    return _Finding(
        line,
        (),
        (
            f"the top level is a {kind}, not a mapping; write `key: value` lines "
            "such as `name:`, `horizon:`, `source:` and `stations:`"
        ),
    )


def _problem(source: str, line: int | None, path: tuple[Any, ...], message: str) -> str:
    """The one-line form: ``file:line: path: message``."""
    where = f"{source}:{line}" if line else source
    return f"{where}: {_path_text(path)}: {message}" if path else f"{where}: {message}"


# --------------------------------------------------------------------------------------------
# Turning pydantic errors into one-line problems
# --------------------------------------------------------------------------------------------

_ABSENT = object()


def _describe(error: dict[str, Any], data: Any, lines: Lines) -> _Finding:
    path, raw = _user_path(error["loc"], data)
    explain = _EXPLAIN.get(error["type"], _explain_default)
    return _Finding(_line_of(path, lines), path, explain(error, raw))


def _user_path(loc: Loc, data: Any) -> tuple[tuple[Any, ...], Any]:
    """Map a pydantic error location to the path in the user's data, and the value there.

    Pydantic inserts union tags (``'lognormal'``, ``'branches'``) that the user never wrote, and
    a shorthand such as ``process: 45min`` stands for a whole mapping; both are skipped.
    """
    path: list[Any] = []
    node = data
    for item in loc:
        if _contains(node, item):
            node = node[item]
        elif item in UNION_TAGS or not isinstance(node, dict):
            continue
        else:
            node = _ABSENT  # a key the user left out
        path.append(item)
    return tuple(path), node


def _contains(node: Any, item: str | int) -> bool:
    if isinstance(node, dict):
        return item in node
    return isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node)


def _path_text(path: tuple[Any, ...]) -> str:
    text = ""
    for item in path:
        if isinstance(item, int):
            text += f"[{item}]"
        else:
            text += f".{item}" if text else str(item)
    return text


def _line_of(path: tuple[Any, ...], lines: Lines) -> int | None:
    """Line of the deepest part of `path` the file has (a missing key: its parent's line)."""
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _model_at(loc: Loc) -> type[BaseModel]:
    """The model whose fields an error location points into."""
    return model_at(loc)


def _field_list(model: type[BaseModel]) -> str:
    return ", ".join(model.model_fields)


def _explain_missing(error: dict[str, Any], raw: Any) -> str:
    key = error["loc"][-1]
    description = _model_at(error["loc"][:-1]).model_fields[key].description
    return f"missing; add `{key}:` ({description[0].lower()}{description[1:].rstrip('.')})"


def _explain_extra(error: dict[str, Any], raw: Any) -> str:
    key = str(error["loc"][-1])
    model = _model_at(error["loc"][:-1])
    close = difflib.get_close_matches(key, model.model_fields, n=1)
    if close:
        return f"unknown key; did you mean `{close[0]}`?"
    return f"unknown key; remove it (allowed keys: {_field_list(model)})"


def _explain_mapping(error: dict[str, Any], raw: Any) -> str:
    return (
        f"{quote_value(raw)} is not a mapping; write `key: value` lines "
        f"(keys: {_field_list(_model_at(error['loc']))})"
    )


def _key(error: dict[str, Any]) -> Any:
    """The key the user wrote for the value an error is about (union tags skipped)."""
    keys = [item for item in error["loc"] if item not in UNION_TAGS]
    return keys[-1] if keys else ""


def _explain_whole_number(error: dict[str, Any], raw: Any) -> str:
    return (
        f"{quote_value(raw)} is not a whole number; write a plain integer without quotes, "
        f"such as `{_key(error)}: 2`"
    )


def _explain_number(error: dict[str, Any], raw: Any) -> str:
    return (
        f"{quote_value(raw)} is not a number; write a plain number without quotes or units, "
        f"such as `{_key(error)}: 0.5`"
    )


def _explain_text(error: dict[str, Any], raw: Any) -> str:
    return (
        f"{quote_value(raw)} is not text; put it in quotes, such as `{_key(error)}: '{raw}'`"
    )


def _explain_greater_than(error: dict[str, Any], raw: Any) -> str:
    limit = error["ctx"]["gt"]
    if limit == 0:
        example = "a duration such as '1h'" if isinstance(raw, str) else "a number above 0"
        return f"{quote_value(raw)} must be greater than zero; use {example}"
    return f"{quote_value(raw)} must be greater than {limit}; use a larger value"


def _explain_at_least(error: dict[str, Any], raw: Any) -> str:
    limit = error["ctx"]["ge"]
    if limit == 0:
        return f"{quote_value(raw)} is negative; use 0 or more"
    return f"{quote_value(raw)} is less than {limit}; use {limit} or more"


def _explain_at_most(error: dict[str, Any], raw: Any) -> str:
    limit = error["ctx"]["le"]
    return f"{quote_value(raw)} is more than {limit:g}; use at most {limit:g}"


def _explain_id_pattern(error: dict[str, Any], raw: Any) -> str:
    name = error["input"]  # the id itself, also where it is a key (`products: {GB200: 0.6}`)
    suggestion = re.sub(r"[^a-z0-9_]+", "_", str(name).lower()).strip("_") or "station_1"
    return (
        f"{quote_value(name)} is not a valid id; use only lowercase letters, digits and "
        f"underscores, such as '{suggestion}'"
    )


def _explain_choice(error: dict[str, Any], raw: Any) -> str:
    return f"{quote_value(raw)} is not allowed here; use {error['ctx']['expected']}"


def _explain_unknown_dist(error: dict[str, Any], raw: Any) -> str:
    tag = str(error["ctx"]["tag"])
    close = difflib.get_close_matches(tag, DIST_NAMES, n=1)
    hint = f"did you mean `{close[0]}`?" if close else f"use one of: {', '.join(DIST_NAMES)}"
    return f"unknown distribution `{tag}`; {hint}"


def _explain_no_dist(error: dict[str, Any], raw: Any) -> str:
    return (
        f"no `dist` given; add `dist:` with one of {', '.join(DIST_NAMES)}, "
        "or write a fixed duration such as '45min'"
    )


def _explain_routing(error: dict[str, Any], raw: Any) -> str:
    return (
        f"{quote_value(raw)} is not a routing; write a station id, `exit`, "
        "or a list of `{to: station, p: probability}` branches"
    )


def _explain_default(error: dict[str, Any], raw: Any) -> str:
    return f"{error['msg']} (got {quote_value(raw)})"


_EXPLAIN: dict[str, Callable[[dict[str, Any], Any], str]] = {
    "missing": _explain_missing,
    "extra_forbidden": _explain_extra,
    "value_error": lambda error, raw: str(error["ctx"]["error"]),
    "plant": lambda error, raw: error["msg"],
    "model_type": _explain_mapping,
    "int_type": _explain_whole_number,
    "float_type": _explain_number,
    "greater_than": _explain_greater_than,
    "greater_than_equal": _explain_at_least,
    "less_than_equal": _explain_at_most,
    "string_type": _explain_text,
    "string_too_short": lambda error, raw: "is empty; write a name",
    "string_pattern_mismatch": _explain_id_pattern,
    "literal_error": _explain_choice,
    "too_short": lambda error, raw: "is empty; list at least one entry",
    "list_type": lambda error, raw: f"{quote_value(raw)} is not a list; write `- item` lines",
    "union_tag_invalid": _explain_unknown_dist,
    "union_tag_not_found": _explain_no_dist,
    "routing_type": _explain_routing,
}
