"""Screen-space placement of the annotation and measurement labels (no Qt, no VTK).

Each label has an anchor on the screen (its annotation's or measurement's point projected
through the camera) and a pixel box (its text measured in the font it is drawn with).
:func:`place_labels` chooses, label by label in priority order (the selected markup
first), a position among candidates around the anchor - right, left, above, below, the
four diagonals, then the same further out with a leader line back to the anchor - so
that no two label boxes overlap, boxes avoid the markers (pins) and other obstacles
(legends) when they can, and every box lies inside the view (a label near an edge is
shifted inside). A label that finds no free place is dropped, except the ones marked
``keep`` (the selected annotation's label always shows).

Coordinates are display pixels, origin lower left (VTK's convention); boxes are
(x, y, w, h). :func:`project` maps local 3D points to display pixels through a 4x4
composite projection matrix (VTK's camera ``GetCompositeProjectionTransformMatrix``).

vtkLabelPlacementMapper (what ``pyvista.add_point_labels`` uses) was not kept: it draws
each label at one fixed offset from its anchor and either culls the overlapping ones or
draws them all over each other, tries no other position, and lets a label at the view's
edge be cut off - none of the guarantees above.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: gap between a marker and its label (pixels)
GAP = 10.0
#: free space kept between two labels and between a label and the view's edge
SPACING = 2.0
#: how much bigger than its size an obstacle (a marker) is taken to be
MARKER_PX = 16.0
#: a label whose box is further than this from its anchor gets a leader line
LEADER_PX = 14.0
#: the distances (pixels beyond GAP) the candidates are tried at, nearest first
RINGS = (0.0, 14.0, 32.0, 56.0)
#: labels tried stacked above and below the first ones, right and left of the anchor
STACK = 4

# candidate directions: right, left, above, below, then the diagonals
_DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1))


@dataclass
class PlacedLabel:
    """Where a label is drawn: ``box`` (x, y, w, h) display pixels, origin lower left;
    ``leader``: the line (x0, y0, x1, y1) from the anchor to the box, None when the
    label sits next to its anchor."""

    index: int
    box: tuple[float, float, float, float]
    anchor: tuple[float, float]
    leader: tuple[float, float, float, float] | None = None


def project(matrix: np.ndarray, points: np.ndarray, view_size: tuple[int, int]
            ) -> tuple[np.ndarray, np.ndarray]:
    """``points`` (n, 3) to display pixels (n, 2) (origin lower left) through the 4x4
    composite projection ``matrix``; and which of them are in front of the camera."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    m = np.asarray(matrix, dtype=np.float64).reshape(4, 4)
    hom = np.hstack([pts, np.ones((len(pts), 1))]) @ m.T
    w = hom[:, 3]
    front = w > 1e-12
    safe = np.where(front, w, 1.0)
    ndc = hom[:, :3] / safe[:, None]
    vw, vh = view_size
    xy = np.column_stack([(ndc[:, 0] + 1.0) * 0.5 * vw, (ndc[:, 1] + 1.0) * 0.5 * vh])
    return xy, front


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float],
            spacing: float = 0.0) -> bool:
    """Whether boxes ``a`` and ``b`` (x, y, w, h) overlap, counting ``spacing`` pixels
    around them as taken."""
    return (a[0] < b[0] + b[2] + spacing and b[0] < a[0] + a[2] + spacing
            and a[1] < b[1] + b[3] + spacing and b[1] < a[1] + a[3] + spacing)


def _area(a: tuple[float, float, float, float], boxes: np.ndarray) -> float:
    """Total area of ``a`` covered by ``boxes`` (m, 4)."""
    if not len(boxes):
        return 0.0
    dx = np.minimum(a[0] + a[2], boxes[:, 0] + boxes[:, 2]) - np.maximum(a[0], boxes[:, 0])
    dy = np.minimum(a[1] + a[3], boxes[:, 1] + boxes[:, 3]) - np.maximum(a[1], boxes[:, 1])
    return float((np.clip(dx, 0, None) * np.clip(dy, 0, None)).sum())


def _hits(a: tuple[float, float, float, float], boxes: np.ndarray) -> bool:
    """Whether box ``a`` overlaps any of ``boxes`` (m, 4)."""
    if not len(boxes):
        return False
    return bool(np.any((a[0] < boxes[:, 0] + boxes[:, 2]) & (boxes[:, 0] < a[0] + a[2])
                       & (a[1] < boxes[:, 1] + boxes[:, 3]) & (boxes[:, 1] < a[1] + a[3])))


def crosses(segment: tuple[float, float, float, float], box: tuple[float, float, float, float]
            ) -> bool:
    """Whether the segment (x0, y0, x1, y1) passes through the inside of ``box``
    (Liang-Barsky clipping)."""
    x0, y0, x1, y1 = segment
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x0 - box[0]), (dx, box[0] + box[2] - x0),
                 (-dy, y0 - box[1]), (dy, box[1] + box[3] - y0)):
        if p == 0.0:
            if q <= 0.0:
                return False
            continue
        t = q / p
        if p < 0.0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 >= t1:
            return False
    return True


def candidates(anchor: tuple[float, float], size: tuple[float, float],
               view_size: tuple[int, int]) -> list[tuple[tuple[float, float, float, float],
                                                         float]]:
    """The boxes tried for a label of ``size`` (w, h) at ``anchor``, best first, each
    shifted inside the view: (box, how far it was moved from its ideal place)."""
    ax, ay = anchor
    w, h = size
    vw, vh = view_size
    ideal = []
    for ring in RINGS:
        d = GAP + ring
        for dx, dy in _DIRECTIONS:
            x = ax + d if dx > 0 else ax - d - w if dx < 0 else ax - w / 2.0
            y = ay + d if dy > 0 else ay - d - h if dy < 0 else ay - h / 2.0
            if dx and dy:  # diagonals: the corner at the gap, not further
                d2 = d * 0.7071
                x = ax + d2 if dx > 0 else ax - d2 - w
                y = ay + d2 if dy > 0 else ay - d2 - h
            ideal.append((x, y))
        if ring == RINGS[0]:
            # labels stacked in columns right and left of the anchor (callouts), before
            # the further rings: close anchors get a tidy list, not a scatter
            for k in range(1, STACK + 1):
                for sign in (1, -1):
                    y = ay - h / 2.0 + sign * k * (h + 2 * SPACING + 1)
                    ideal.extend([(ax + GAP, y), (ax - GAP - w, y)])
    out = []
    for x, y in ideal:
        cx = min(max(x, SPACING), vw - SPACING - w) if w + 2 * SPACING <= vw else SPACING
        cy = min(max(y, SPACING), vh - SPACING - h) if h + 2 * SPACING <= vh else SPACING
        out.append(((cx, cy, w, h), abs(cx - x) + abs(cy - y)))
    return out


def leader_for(anchor: tuple[float, float], box: tuple[float, float, float, float]
               ) -> tuple[float, float, float, float] | None:
    """The leader line to the nearest point of ``box`` from the edge of the marker at
    ``anchor`` (a line over the pin would hide what it names); None when the box is
    within :data:`LEADER_PX` of the anchor."""
    ax, ay = anchor
    x, y, w, h = box
    nx, ny = min(max(ax, x), x + w), min(max(ay, y), y + h)
    length = float(np.hypot(nx - ax, ny - ay))
    if length <= LEADER_PX:
        return None
    start = min(MARKER_PX / 2.0, length / 2.0) / length
    return (ax + (nx - ax) * start, ay + (ny - ay) * start, nx, ny)


def place_labels(anchors: np.ndarray, sizes: np.ndarray, view_size: tuple[int, int], *,
                 visible: np.ndarray | None = None, priority: np.ndarray | None = None,
                 keep: np.ndarray | None = None, markers: np.ndarray | None = None,
                 obstacles: list[tuple[float, float, float, float]] | None = None
                 ) -> list[PlacedLabel]:
    """Place labels greedily: ``anchors`` (n, 2) display pixels, ``sizes`` (n, 2) their
    boxes' (w, h); ``visible``: anchors that can show (in front of the camera; default
    all); ``priority`` (higher first, ties in the given order); ``keep``: labels shown
    even when every candidate overlaps (placed first); ``markers`` (m, 2): pins the boxes
    should not cover (nor the labels' anchors); ``obstacles``: boxes to stay off
    (legends); no leader line crosses a label. Returns the labels shown, none
    overlapping another (unless two ``keep`` labels must), all inside the view (unless
    larger than it); anchors outside the view show no label."""
    anchors = np.asarray(anchors, dtype=np.float64).reshape(-1, 2)
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
    n = len(anchors)
    vw, vh = (float(v) for v in view_size)
    visible = np.ones(n, bool) if visible is None else np.asarray(visible, bool)
    priority = np.zeros(n) if priority is None else np.asarray(priority, dtype=np.float64)
    keep = np.zeros(n, bool) if keep is None else np.asarray(keep, bool)
    inside = ((anchors[:, 0] >= 0) & (anchors[:, 0] <= vw)
              & (anchors[:, 1] >= 0) & (anchors[:, 1] <= vh))
    marks = np.zeros((0, 2)) if markers is None else np.asarray(markers, float).reshape(-1, 2)
    half = MARKER_PX / 2.0
    # the pins, and every shown label's anchor (what the labels name stays visible)
    marks = np.vstack([marks, anchors[visible & inside]])
    soft = [np.column_stack([marks - half, np.full((len(marks), 2), MARKER_PX)])]
    if obstacles:
        soft.append(np.asarray(obstacles, dtype=np.float64).reshape(-1, 4))
    soft_boxes = np.vstack(soft)
    order = sorted((i for i in range(n) if visible[i] and inside[i]),
                   key=lambda i: (not keep[i], -priority[i], i))
    placed: list[PlacedLabel] = []
    taken = np.zeros((n, 4))  # the placed boxes, grown by SPACING
    for i in order:
        anchor = (float(anchors[i, 0]), float(anchors[i, 1]))
        size = (float(sizes[i, 0]), float(sizes[i, 1]))
        # the label's own marker counts: a box over its anchor hides what it names
        own = np.array([[anchor[0] - half, anchor[1] - half, MARKER_PX, MARKER_PX]])
        avoid = np.vstack([soft_boxes, own])
        best, best_cost = None, np.inf
        for rank, (box, moved) in enumerate(candidates(anchor, size, (int(vw), int(vh)))):
            if _hits(box, taken[:len(placed)]):
                continue
            # no leader line through a label, neither this one's nor the others'
            leader = leader_for(anchor, box)
            if leader is not None and any(crosses(leader, p.box) for p in placed):
                continue
            if any(p.leader is not None and crosses(p.leader, box) for p in placed):
                continue
            cost = _area(box, avoid) * 4.0 + rank * 2.0 + moved
            if cost < best_cost:
                best, best_cost = box, cost
                if cost == 0.0:
                    break
        if best is None:
            if not keep[i]:
                continue  # no free place: dropped
            best = candidates(anchor, size, (int(vw), int(vh)))[0][0]
        taken[len(placed)] = (best[0] - SPACING, best[1] - SPACING, best[2] + 2 * SPACING,
                              best[3] + 2 * SPACING)
        placed.append(PlacedLabel(i, best, anchor, leader_for(anchor, best)))
    return placed
