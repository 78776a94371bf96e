"""Imports inside twin point one way, from each stage only to the stages below it (README,
"What is in the box"), and no module imports another's private name."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "twin"

# Lowest first. A module may import from its own stage and from any stage in a lower layer.
LAYERS = (
    ("errors",),  # TwinError and ConfigError
    ("units", "files", "_backend"),  # shared by every stage
    ("config", "engine"),  # what a plant is; the engine's contract (arrays, codes)
    ("compile",),  # config -> the engine's parameter arrays
    ("results",),  # the engine's final state -> figures, statistics, tables, charts
    ("run",),  # compile, drive the engine over lanes, return the results
    ("viz", "tune"),
    ("cli", "__init__"),
)
LAYER = {stage: i for i, stages in enumerate(LAYERS) for stage in stages}


def stage_of(module: str) -> str:
    """``twin.run.simulate`` -> ``run``; the package itself -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def twin_imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every import of twin in ``path``, in functions too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names
                      if a.name.split(".")[0] == "twin"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and \
                node.module.split(".")[0] == "twin":
            found.append((node.lineno, node.module, [a.name for a in node.names]))
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_imports_point_down_the_stages():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        here = module_name(path)
        mine = stage_of(here)
        for line, module, names in twin_imports(path):
            if module == "twin":  # `from twin import config` names a stage
                targets = [n for n in names if n != "__version__"]
            else:
                targets = [stage_of(module)]
            for target in targets:
                if target != mine and LAYER[target] >= LAYER[mine]:
                    wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {mine} imports "
                                 f"{target}")
    assert wrong == []


def test_no_module_imports_a_private_name_of_another():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for line, module, names in twin_imports(path):
            wrong += [f"{path.relative_to(PACKAGE.parent)}:{line}: {module}.{n}"
                      for n in names if n.startswith("_") and not n.startswith("__")]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {a.asname or a.name for node in ast.walk(tree)
                   if isinstance(node, (ast.Import, ast.ImportFrom)) for a in node.names}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                    node.value.id in aliases and node.attr.startswith("_") and \
                    not node.attr.startswith("__"):
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: "
                             f"{node.value.id}.{node.attr}")
    assert wrong == []
