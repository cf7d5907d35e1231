"""The adaptive point budget: how many points a frame may draw, from measured frame times.

No VTK, no Qt: :class:`FrameBudget` is told what happens (a frame started / ended with n
points drawn, the camera started / stopped moving, a layer was added) and answers with
budgets. Time comes from an injected ``clock`` (a callable returning seconds, monotonic;
default :func:`time.perf_counter`), so it is tested with a fake clock and no renderer.
:class:`viewer.render.SceneRenderer` owns one (``renderer.budget``) and feeds it the
render window's StartEvent / EndEvent and the interactor's interaction events.

Budgets
-------
``point_budget`` is ``"auto"`` (default) or a number of points. In auto mode the
interactive and rest budgets are the frame-time targets divided by the measured cost per
point (``seconds_per_point``, a moving estimate), clipped to [min_budget, max_budget];
a fixed budget is the rest budget and caps the interactive one.

The next frame (:meth:`FrameBudget.current`) uses: off-screen, the rest budget (at least
``still_budget`` in auto mode); before any frame was timed, ``first_budget``; while the
camera moves or a load is active (a layer loading, or ``settle_seconds`` after a layer was
added / swapped), the interactive budget; during a refinement, the refinement step's
budget; else the rest budget. A refinement starts when the camera stops or the load
settles and multiplies the budget by ``REFINE_FACTOR`` per step up to the rest budget.
"""

from __future__ import annotations

import time
from typing import Callable

AUTO = "auto"
#: timed renders with fewer points do not update the per-point cost estimate
MIN_TIMED_POINTS = 20_000
#: refinement: each step multiplies the budget by this factor up to the rest budget
REFINE_FACTOR = 2.5
#: budget of on-screen frames before any frame has been timed (points)
FIRST_BUDGET = 40_000
#: seconds after a layer was added / its data swapped during which frames stay interactive
SETTLE_SECONDS = 0.5
#: a budget-limited frame is redrawn when the measured cost allows this much more
GROW_FACTOR = 1.25
#: what one triangle of a tile layer costs a frame, in points (llvmpipe, 1400x900 window:
#: ~1.5 us per drawn point and ~2 us per drawn triangle, filled), so one measured cost
#: per point budgets both: frames count ``points + TRIANGLE_POINTS * triangles``
TRIANGLE_POINTS = 1.5
#: what one more actor (a draw call: a tile's part) costs, in points (llvmpipe: a few
#: hundred microseconds; a frame of 200 small tiles is dominated by them)
ACTOR_POINTS = 300
#: tile layers refine at least this far whatever the measured cost (triangles)
MIN_TILE_TRIANGLES = 50_000
#: seconds of render a frame's tiles may cost on screen (the frame's points count too).
#: The window's event-loop gap is more than the render: measured on llvmpipe at
#: 1400x900, the Qt widget's paint adds ~5 ms and composing the window ~30 ms after
#: render() returns, the poll that made the selection a few ms, loader threads competing
#: for two cores make frames up to 1.5x slower; 40 ms keeps the gap under 100 ms (the
#: 60 / 80 ms frame targets of point layers gave 110-160 ms gaps over 120 textured tiles)
TILE_FRAME_SECONDS = 0.04

Clock = Callable[[], float]


def parse_point_budget(budget: int | str) -> int | str:
    """``"auto"`` (any case, spaces around) or a positive number of points."""
    if isinstance(budget, str) and budget.strip().lower() == AUTO:
        return AUTO
    value = int(budget)
    if value < 1:
        raise ValueError(f"point budget must be positive, not {budget!r}")
    return value


class FrameBudget:
    """Frame-budget controller (see the module docstring). Plain attributes are settings
    and state a caller may read or set; nothing here draws."""

    def __init__(self, point_budget: int | str = AUTO, clock: Clock | None = None) -> None:
        self.clock: Clock = time.perf_counter if clock is None else clock
        self.point_budget: int | str = parse_point_budget(point_budget)
        self.target_interactive_seconds = 0.06
        self.target_rest_seconds = 0.08
        self.target_tile_seconds = TILE_FRAME_SECONDS
        self.first_budget = FIRST_BUDGET
        self.settle_seconds = SETTLE_SECONDS
        self.still_budget = 1_500_000
        self.min_budget = 20_000
        self.max_budget = 20_000_000
        self.seconds_per_point = 2.5e-6  # llvmpipe-like until measured
        self.interacting = False  # the camera is moving (interaction started, not ended)
        self.timed = False  # an on-screen frame has been timed (seconds_per_point)
        self.last_frame_seconds: float | None = None
        self.last_budget: int | None = None  # budget of the last selection
        self.refine: int | None = None  # budget of the running refinement step
        self.refine_when_settled = False  # refine to the rest budget once loads settled
        self.settle_until = 0.0  # clock time until which frames stay interactive
        self._frame_start: float | None = None

    # -- budgets ---------------------------------------------------------------------------
    def set_point_budget(self, budget: int | str) -> None:
        """``"auto"`` or a number of points (drawn at rest; less while moving)."""
        self.point_budget = parse_point_budget(budget)

    def budgets(self) -> tuple[int, int]:
        """(interactive, rest) budgets: from the measured cost per point in auto mode."""
        spp = max(float(self.seconds_per_point), 1e-12)
        inter = int(min(max(self.target_interactive_seconds / spp, self.min_budget),
                        self.max_budget))
        rest = int(min(max(self.target_rest_seconds / spp, self.min_budget),
                       self.max_budget))
        if self.point_budget != AUTO:
            rest = int(self.point_budget)
            inter = min(inter, rest)
        return inter, rest

    def settling(self) -> bool:
        """True for ``settle_seconds`` after :meth:`start_settling`."""
        return self.clock() < self.settle_until

    def loading_active(self, layers_loading: bool = False) -> bool:
        """A load is active: a layer is loading (``layers_loading``) or settling."""
        return self.settling() or bool(layers_loading)

    def current(self, off_screen: bool = False, layers_loading: bool = False) -> int:
        """The budget the next frame uses."""
        inter, rest = self.budgets()
        if off_screen:
            return max(rest, self.still_budget) if self.point_budget == AUTO else rest
        if not self.timed:  # nothing measured yet: a frame that surely fits
            first = int(self.first_budget)
            return first if self.point_budget == AUTO else min(first, rest)
        if self.interacting or self.loading_active(layers_loading):
            return inter
        if self.refine is not None:
            return min(self.refine, rest)
        return rest

    def choose(self, off_screen: bool = False, layers_loading: bool = False,
               budget: int | None = None) -> int:
        """The budget of the selection about to be made (``budget``: an explicit one),
        remembered as ``last_budget``. The measured cost moves a little with every frame,
        so on screen the last budget is kept unless the new one differs by more than
        ``GROW_FACTOR`` (else every timed frame would cause another one)."""
        if budget is None:
            budget = self.current(off_screen, layers_loading)
            last = self.last_budget
            if last and not off_screen and last / GROW_FACTOR <= budget <= last * GROW_FACTOR:
                budget = last
            if self.point_budget != AUTO:  # a budget the user chose is never exceeded
                budget = min(budget, int(self.point_budget))
        else:
            budget = int(budget)
        self.last_budget = budget
        return budget

    def triangle_budget(self, off_screen: bool = False, layers_loading: bool = False,
                        points: int = 0, last: int | None = None) -> int | None:
        """Triangles the tile layers may draw in the next frame: the frame's point budget
        (at most ``target_tile_seconds`` of render at the measured cost) left after
        ``points`` (drawn by point layers), at ``TRIANGLE_POINTS`` each (a tile
        also costs ``ACTOR_POINTS / TRIANGLE_POINTS`` triangles: its draw call), at
        least ``MIN_TILE_TRIANGLES``; None off screen (a still picture: the layers' own
        budget) or before any frame was timed. ``last`` is kept unless the new budget
        differs by more than ``GROW_FACTOR`` (a selection that flips with each frame's
        small change of measured cost would reload tiles)."""
        if off_screen or not self.timed:
            return None
        budget = min(self.current(False, layers_loading),
                     int(self.target_tile_seconds / max(float(self.seconds_per_point), 1e-12)))
        tris = max(int((budget - points) / TRIANGLE_POINTS), MIN_TILE_TRIANGLES)
        if last and last / GROW_FACTOR <= tris <= last * GROW_FACTOR:
            return last
        return tris

    # -- events ----------------------------------------------------------------------------
    def start_settling(self) -> None:
        """A layer was added or its data swapped: frames stay interactive for
        ``settle_seconds``, then a refinement starts (:meth:`poll_started`)."""
        self.settle_until = self.clock() + float(self.settle_seconds)
        self.refine_when_settled = True
        self.refine = None

    def frame_started(self) -> None:
        self._frame_start = self.clock()

    @property
    def in_frame(self) -> bool:
        """Between :meth:`frame_started` and :meth:`frame_ended`."""
        return self._frame_start is not None

    def frame_ended(self, drawn: int, total: int, timed: bool = True,
                    layers_loading: bool = False) -> bool:
        """A frame that drew ``drawn`` of ``total`` points ended. ``timed``: the frame
        counts for the cost estimate (on-screen frames). Returns True when the frame was
        cut by its budget and the measured cost now allows clearly more: the caller should
        draw again (each such frame still fits its target). False when no frame started."""
        if self._frame_start is None:
            return False
        dt = self.clock() - self._frame_start
        self._frame_start = None
        self.last_frame_seconds = dt
        if drawn < MIN_TIMED_POINTS or not timed:
            return False
        spp = dt / drawn
        # the first measurement replaces the prior; then a moving estimate
        self.seconds_per_point = (spp if not self.timed
                                  else 0.7 * self.seconds_per_point + 0.3 * spp)
        self.timed = True
        used = self.last_budget
        return bool(used and not self.interacting and drawn >= 0.5 * used
                    and drawn < total
                    and self.current(False, layers_loading) > GROW_FACTOR * used)

    def interaction_started(self) -> None:
        self.interacting = True
        self.refine = None

    def interaction_ended(self) -> bool:
        """The camera stopped: refine from the interactive budget. True when it was
        moving (the caller should then redraw)."""
        if not self.interacting:
            return False
        self.interacting = False
        self.refine = self.budgets()[0]
        return True

    # -- refinement ------------------------------------------------------------------------
    def poll_started(self, waiting: bool) -> int:
        """Start of an update poll; ``waiting``: a load is active. A refinement that
        waited for the load to settle starts now. Returns the rest budget the steps of
        this poll go up to."""
        if self.refine_when_settled and not waiting:
            self.refine_when_settled = False
            self.refine = self.budgets()[0]
        return self.budgets()[1]

    def refine_step(self, rest: int, waiting: bool) -> None:
        """Next refinement step (none while ``waiting``): the budget grows by
        ``REFINE_FACTOR``; the refinement ends when it reaches ``rest``."""
        if self.refine is not None and not waiting:
            self.refine = int(self.refine * REFINE_FACTOR)
            if self.refine >= rest:
                self.refine = None

    @property
    def refining(self) -> bool:
        """A refinement step is due (now or once the load settled)."""
        return self.refine is not None or self.refine_when_settled
