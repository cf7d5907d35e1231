"""The frame-budget controller alone: no VTK, no renderer, time from a fake clock."""

from __future__ import annotations

import pytest

from viewer.budget import (
    AUTO,
    FIRST_BUDGET,
    GROW_FACTOR,
    MIN_TIMED_POINTS,
    REFINE_FACTOR,
    FrameBudget,
    parse_point_budget,
)


class FakeClock:
    """Seconds that move only when told to."""

    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def timed_frame(budget: FrameBudget, clock: FakeClock, seconds: float, drawn: int,
                total: int = 10_000_000, timed: bool = True) -> bool:
    budget.frame_started()
    clock.advance(seconds)
    return budget.frame_ended(drawn, total, timed=timed)


def test_budgets_follow_the_measured_cost_per_point():
    b = FrameBudget(clock=FakeClock())
    assert b.point_budget == AUTO
    b.seconds_per_point = 3e-6  # llvmpipe
    assert b.budgets() == (20_000, 26_666)
    b.seconds_per_point = 1e-7
    assert b.budgets() == (600_000, 800_000)
    b.seconds_per_point = 1e-9  # a workstation GPU: clipped to max_budget
    assert b.budgets() == (b.max_budget, b.max_budget)
    b.seconds_per_point = 1e-3  # clipped to min_budget
    assert b.budgets() == (b.min_budget, b.min_budget)
    b.seconds_per_point = 0.0  # no division by zero
    assert b.budgets() == (b.max_budget, b.max_budget)
    # a fixed budget is the rest budget and caps the interactive one
    b.seconds_per_point = 1e-7
    b.set_point_budget(250_000)
    assert b.budgets() == (250_000, 250_000)
    b.set_point_budget(" Auto ")
    assert b.point_budget == AUTO and b.budgets() == (600_000, 800_000)


@pytest.mark.parametrize("bad", [0, -5, "many", "0"])
def test_bad_point_budgets_are_refused(bad):
    with pytest.raises(ValueError):
        parse_point_budget(bad)
    with pytest.raises(ValueError):
        FrameBudget(bad)


def test_next_frame_budget_by_state():
    clock = FakeClock()
    b = FrameBudget(clock=clock)
    b.seconds_per_point = 1e-7
    inter, rest = b.budgets()
    # off-screen frames (CLI, screenshots) draw the still budget at least
    assert b.current(off_screen=True) == b.still_budget > rest
    b.set_point_budget(300_000)
    assert b.current(off_screen=True) == 300_000
    b.set_point_budget(AUTO)
    # on screen, nothing timed yet: the conservative first budget
    assert b.current() == FIRST_BUDGET == b.first_budget
    b.set_point_budget(10_000)
    assert b.current() == 10_000  # a fixed budget below it wins
    b.set_point_budget(AUTO)
    b.timed = True
    assert b.current() == rest
    assert b.current(layers_loading=True) == inter
    b.interaction_started()
    assert b.interacting and b.current() == inter


def test_settling_uses_the_injected_clock():
    clock = FakeClock()
    b = FrameBudget(clock=clock)
    b.timed = True
    b.seconds_per_point = 1e-7
    inter, rest = b.budgets()
    b.settle_seconds = 2.0
    b.start_settling()
    assert b.settling() and b.loading_active() and b.current() == inter
    assert b.refining  # a refinement waits for the load to settle
    clock.advance(1.9)
    assert b.settling() and b.current() == inter
    # a poll while settling starts nothing
    assert b.poll_started(waiting=b.loading_active()) == rest
    b.refine_step(rest, waiting=True)
    assert b.refine is None and b.refine_when_settled
    clock.advance(0.2)
    assert not b.settling() and not b.loading_active()
    assert b.loading_active(layers_loading=True)


def test_refinement_grows_by_steps_up_to_the_rest_budget():
    clock = FakeClock()
    b = FrameBudget(clock=clock)
    b.timed = True
    b.seconds_per_point = 1e-8
    inter, rest = b.budgets()
    assert (inter, rest) == (6_000_000, 8_000_000)
    b.seconds_per_point = 1e-6
    inter, rest = b.budgets()
    assert (inter, rest) == (60_000, 80_000)
    b.target_rest_seconds = 1.0  # rest budget 1M: several steps
    inter, rest = b.budgets()
    b.settle_seconds = 0.5
    b.start_settling()
    clock.advance(0.6)
    assert b.poll_started(waiting=False) == rest
    assert b.refine == inter and not b.refine_when_settled
    steps = []
    while b.refining:
        b.refine_step(rest, waiting=False)
        steps.append(b.current())
    expected = []
    value = inter
    while True:
        value = int(value * REFINE_FACTOR)
        if value >= rest:
            break
        expected.append(value)
    assert steps == expected + [rest] and len(steps) >= 3
    assert steps == sorted(steps)


def test_interaction_end_starts_a_refinement_from_the_interactive_budget():
    b = FrameBudget(clock=FakeClock())
    b.timed = True
    assert not b.interaction_ended()  # was not moving: nothing to do
    b.interaction_started()
    b.refine = 123
    b.interaction_started()
    assert b.refine is None
    assert b.interaction_ended()
    assert not b.interacting and b.refine == b.budgets()[0] == b.current()


def test_frame_times_update_the_cost_estimate():
    clock = FakeClock()
    b = FrameBudget(clock=clock)
    assert not b.in_frame and not b.frame_ended(100_000, 1_000_000)  # no frame started
    # the first timed frame replaces the prior estimate
    timed_frame(b, clock, 0.05, 100_000)
    assert b.timed and b.last_frame_seconds == pytest.approx(0.05)
    assert b.seconds_per_point == pytest.approx(5e-7)
    # then a moving estimate
    timed_frame(b, clock, 0.01, 100_000)
    assert b.seconds_per_point == pytest.approx(0.7 * 5e-7 + 0.3 * 1e-7)
    # small frames and off-screen frames are timed but do not count
    before = b.seconds_per_point
    timed_frame(b, clock, 1.0, MIN_TIMED_POINTS - 1)
    assert b.last_frame_seconds == pytest.approx(1.0) and b.seconds_per_point == before
    timed_frame(b, clock, 1.0, 500_000, timed=False)
    assert b.seconds_per_point == before
    fresh = FrameBudget(clock=clock)
    timed_frame(fresh, clock, 1.0, 500_000, timed=False)
    assert not fresh.timed


def test_a_budget_limited_frame_asks_for_more_when_the_cost_allows():
    clock = FakeClock()
    b = FrameBudget(clock=clock)
    b.choose()
    assert b.last_budget == FIRST_BUDGET
    # drew the whole first budget of a bigger cloud, much faster than the target
    assert timed_frame(b, clock, 0.004, FIRST_BUDGET, total=1_000_000)
    assert b.current() > GROW_FACTOR * FIRST_BUDGET
    # every point of the cloud was drawn: nothing more to draw
    b.last_budget = FIRST_BUDGET
    assert not timed_frame(b, clock, 0.004, FIRST_BUDGET, total=FIRST_BUDGET)
    # the frame was not cut by its budget (far fewer points than allowed)
    b.last_budget = 400_000
    assert not timed_frame(b, clock, 0.004, FIRST_BUDGET, total=1_000_000)
    # while the camera moves, no extra frames
    b.last_budget = FIRST_BUDGET
    b.interaction_started()
    assert not timed_frame(b, clock, 0.004, FIRST_BUDGET, total=1_000_000)
    b.interaction_ended()
    # the cost allows about the same: no extra frame
    b.seconds_per_point = 0.08 / FIRST_BUDGET
    b.refine = None
    assert not timed_frame(b, clock, 0.08, FIRST_BUDGET, total=1_000_000)


def test_the_last_budget_sticks_unless_it_moved_clearly():
    b = FrameBudget(clock=FakeClock())
    b.timed = True
    b.seconds_per_point = 1e-6
    assert b.choose() == 80_000 == b.last_budget
    b.seconds_per_point = 1e-6 / 1.2  # 96k: within the grow factor
    assert b.choose() == 80_000
    b.seconds_per_point = 1e-6 / 1.3  # 104k: clearly more
    assert b.choose() == 104_000 == b.last_budget
    # off-screen frames and explicit budgets take the value as it is
    b.seconds_per_point = 1e-6
    assert b.choose(off_screen=True) == b.still_budget
    assert b.choose(budget=12_345) == 12_345 == b.last_budget
