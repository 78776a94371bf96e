"""The 3D view of a plant (`twin view`): the floor, aisles, stations with their bays and racks,
docks, chargers and vehicle homes, coloured by what `twin run --out DIR` measured. Scenes are
NumPy arrays (`scene`), drawn with pyvista (`render`) as a few merged meshes."""

from twin.viz.scene import COLORS, Scene, build, read_summary

__all__ = ["COLORS", "Scene", "build", "read_summary"]
