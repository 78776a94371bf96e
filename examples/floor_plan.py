"""Draw a plant's floor plan from its config (the images in docs/plants.md).

    python examples/floor_plan.py configs/houston.yaml docs/img/houston-floor.png
    python examples/floor_plan.py configs/houston.yaml docs/img/houston-tray-area.png \
        --zoom 10 120 68 176

Stations are coloured by the fleet that carries their output (green: instant hand-overs);
triangles are the docks a fleet uses, dots the fleets' homes, crosses their chargers, the red
square the outbound dock. --link shades the covered link between two halls.
"""
import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import Rectangle

import twin
from twin.config.geometry import aisle_segments, plant_geometry
from twin.config.layout import station_rectangle

FLEET = {"amr": ("#9ecae1", "#2171b5", "blue"), "agv": ("#fdd0a2", "#e6550d", "orange")}
INSTANT = "#c7e9c0"


def flows(ax, plant, box):
    """Arrows from each station in the box to where its jobs go next."""
    x0, x1, y0, y1 = box

    def inside(p):
        return x0 <= p[0] <= x1 and y0 <= p[1] <= y1

    for j, st in enumerate(plant.stations):
        if not inside(st.position):
            continue
        for k in sorted(plant.successors(j)):
            if k >= len(plant.stations):
                continue
            target = plant.stations[k].position
            if not inside(target):
                target = (x1, target[1] if y0 <= target[1] <= y1 else st.position[1] + 24)
                ax.text(x1 - 1, target[1] + 3, f"to {plant.stations[k].id}", ha="right",
                        fontsize=8, color=FLEET[st.transport][1] if st.transport else "black")
            colour = FLEET[st.transport][1] if st.transport else "#238b45"
            ax.annotate("", xy=target, xytext=st.position, zorder=7,
                        arrowprops=dict(arrowstyle="-|>", color=colour, lw=1.4, shrinkA=12,
                                        shrinkB=12, connectionstyle="arc3,rad=0.12",
                                        ls="--" if st.transport else "-"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("config")
    p.add_argument("out")
    p.add_argument("--link", type=float, nargs=2)
    p.add_argument("--zoom", type=float, nargs=4, help="x0 x1 y0 y1: draw only this box")
    p.add_argument("--inset", type=float, nargs=4,
                   help="x0 x1 y0 y1: a box drawn enlarged elsewhere (dashed; small stations in it "
                        "unlabelled)")
    a = p.parse_args()
    plant = twin.load(a.config)
    geo = plant_geometry(plant)
    fx, fy = plant.layout.floor
    x0, x1, y0, y1 = a.zoom or (-5, fx + 5, -5, fy + 5)
    inch = 10.0 / (x1 - x0)            # 10 inches of axes across
    fig = plt.figure(figsize=(11, (y1 - y0) * inch + 1.1))
    ax = fig.add_axes([0.7 / 11, 0.6 / fig.get_figheight(), 10 / 11,
                       (y1 - y0) * inch / fig.get_figheight()])
    zoom = a.zoom is not None
    fs = 8 if zoom else 7
    ax.add_patch(Rectangle((0, 0), fx, fy, fill=False, lw=2, ec="black"))
    if a.link:
        ax.axvspan(*a.link, color="#ebebeb", zorder=0)
        ax.text(sum(a.link) / 2, 3, "link", ha="center", fontsize=fs)
    for (ax0, ay0), (ax1, ay1) in aisle_segments(plant.layout)[0]:
        ax.plot([ax0, ax1], [ay0, ay1], color="#bdbdbd", lw=4 if not zoom else 10, zorder=1,
                solid_capstyle="butt")
    served = set()
    for j, st in enumerate(plant.stations):
        if st.transport:
            served |= {j} | {k for k in plant.successors(j) if k < len(plant.stations)}
    for j, st in enumerate(plant.stations):
        (rx0, ry0), (rx1, ry1) = station_rectangle(st)
        face = FLEET[st.transport][0] if st.transport else INSTANT
        ax.add_patch(Rectangle((rx0, ry0), rx1 - rx0, ry1 - ry0, fc=face, ec="#555555", lw=0.8,
                               zorder=2))
        cx, cy = st.position
        label = f"{st.id}\n{st.servers}"
        fits = ((rx1 - rx0) * inch * 72 > 0.62 * fs * len(st.id)
                and (ry1 - ry0) * inch * 72 > 2.6 * fs)
        inset = a.inset and a.inset[0] <= cx <= a.inset[1] and a.inset[2] <= cy <= a.inset[3]
        if fits:
            ax.text(cx, cy, label, ha="center", va="center", fontsize=fs, zorder=5)
        elif not inset:
            below = cy < 115 and not (zoom and cy > 100)
            ax.text(cx, ry0 - 1 if below else ry1 + 1, f"{st.id} {st.servers}", ha="center",
                    va="top" if below else "bottom", fontsize=fs - 1, zorder=5)
        if j in served:
            dx, dy = geo.points[j]
            edge_y = ry1 if dy > cy else ry0
            ax.plot([dx, dx], [edge_y, dy], ls=":", color="black", lw=1, zorder=3)
            ax.plot(dx, dy, marker="^", color="black", ms=5 if not zoom else 8, zorder=4)
    for fleet in plant.transport:
        edge = FLEET[fleet.id][1]
        if fleet.id in geo.homes:
            hx, hy = geo.points[geo.homes[fleet.id]]
            ax.plot(hx, hy, "o", color=edge, ms=9, zorder=4)
            if zoom:
                ax.text(hx, hy + 1.5, f"{fleet.id} home", fontsize=fs, ha="center", va="bottom",
                        zorder=5)
            else:
                ax.text(hx + 2, hy, f" {fleet.id} home", fontsize=fs, va="center", zorder=5)
        for c in geo.chargers[fleet.id]:
            ax.plot(*geo.points[c], "P", color=edge, ms=8, zorder=4)
    if zoom:
        flows(ax, plant, (x0, x1, y0, y1))
    if a.inset:
        ix0, ix1, iy0, iy1 = a.inset
        ax.add_patch(Rectangle((ix0, iy0), ix1 - ix0, iy1 - iy0, fill=False, ls="--", ec="#636363",
                               lw=1, zorder=6))
    sx, sy = plant.layout.shipping
    ax.plot(sx, sy, "s", color="red", ms=9, zorder=4)
    ax.text(sx - 2, sy + 4, "shipping", color="red", ha="right", fontsize=fs)
    for t in ax.texts:
        t.set_clip_on(True)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    fleets = "; ".join(f"{FLEET[f.id][2]}, {f.id.upper()}s carry the output"
                       for f in plant.transport)
    if zoom:
        ax.set_title(f"{a.config}, the tray area: blue, AMRs carry the output (dashed: cart "
                     "trips); green, instant hand-overs (solid: trays); ^ docks, o home, "
                     "+ chargers", fontsize=9)
    else:
        ax.set_title(f"{a.config}: {fleets}; green, instant hand-overs (trays); ^ docks, "
                     "o homes, + chargers", fontsize=9)
    fig.savefig(a.out, dpi=100)


main()
