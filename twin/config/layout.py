"""Floor geometry of a plant: the hall, its aisles and how stations stand on it. Lengths in
metres, x along the hall's length and y across it, the origin at a corner of the floor."""

from typing import Annotated

from pydantic import Field

from twin.config.fields import _ConfigModel

Point = Annotated[
    list[float],
    Field(min_length=2, max_length=2, description="[x, y] in metres."),
]
"""A point on the floor, [x, y] in metres."""

Size = Annotated[
    list[Annotated[float, Field(gt=0)]],
    Field(min_length=2, max_length=2, description="[x, y] extent in metres, both positive."),
]


class AisleGrid(_ConfigModel):
    """A regular grid of aisles: lines along x every `spacing[1]` metres and along y every
    `spacing[0]` metres, `margin` metres inside the floor's edges."""

    spacing: Size = Field(description="[dx, dy]: distance between aisles along y and along x.")
    margin: float = Field(0.0, ge=0, description="Distance of the outer aisles from the walls.")


class Layout(_ConfigModel):
    """The floor plan: its size, the aisles vehicles drive on, and where jobs leave."""

    floor: Size = Field(description="[length, width] of the hall in metres.")
    aisles: list[Annotated[list[Point], Field(min_length=2)]] = Field(
        default_factory=list,
        description="Aisle centre lines as polylines `[[x, y], [x, y], ...]`; lines that cross "
        "or touch are joined.",
    )
    grid: AisleGrid | None = Field(
        None, description="A regular grid of aisles, added to `aisles`."
    )
    shipping: Point | None = Field(
        None, description="Where vehicles deliver jobs that leave the plant (`exit`); needed "
        "when a station routes to exit through a fleet.",
    )


class Bays(_ConfigModel):
    """How a station's servers stand in its footprint, for the viewer: rows x columns."""

    rows: int = Field(ge=1, description="Rows of bays.")
    columns: int = Field(ge=1, description="Bays per row.")


def layout_problems(plant) -> list[tuple[tuple, str]]:
    """Problems of where things stand on the floor; none without a layout."""
    return []
