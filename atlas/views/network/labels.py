"""Which agencies' names the map writes, and where: label boxes in map units and the choice of labels that
overlap neither each other nor a larger dot. Computing layer (layout), below `layout`'s measures."""

from __future__ import annotations

import numpy as np
import pandas as pd

LABELLED_NODES = 15  # names drawn on the map for the largest nodes (all names show on hover)


def label_box(name: str, x: float, y: float, size: float, font: float) -> tuple[float, float, float, float]:
    """Where vis-network draws a dot's label, in map units: centred under the dot (left, top, right, bottom);
    the width allows 0.6 of the font size per character, a little more than the map's sans-serif needs."""
    width, height = 0.6 * font * len(name), 1.25 * font
    top = y + size + 0.15 * font
    return (x - width / 2, top, x + width / 2, top + height)


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def readable_labels(agencies: pd.DataFrame, xy: np.ndarray, sizes: np.ndarray, font: float,
                    limit: int = LABELLED_NODES) -> list[str]:
    """The agencies whose names the map writes: the largest dots first (by the chosen measure), each only if
    its label would overlap no label already written, nor a larger dot (a label is drawn with a white outline,
    so it stays legible over the lines and small dots it crosses); at most `limit`. Every other name shows on
    hover."""
    order = np.argsort(-sizes, kind="stable")
    dots = [(xy[i, 0] - sizes[i], xy[i, 1] - sizes[i], xy[i, 0] + sizes[i], xy[i, 1] + sizes[i]) for i in range(len(sizes))]
    chosen, boxes = [], []
    names = agencies["name"].astype(str).to_numpy()
    ids = agencies["agency_id"].to_numpy()
    for i in order:
        if len(chosen) >= limit:
            break
        box = label_box(names[i], xy[i, 0], xy[i, 1], sizes[i], font)
        if any(_overlap(box, other) for other in boxes):
            continue
        if any(j != i and sizes[j] > sizes[i] and _overlap(box, dots[j]) for j in range(len(dots))):
            continue
        chosen.append(ids[i])
        boxes.append(box)
    return chosen
