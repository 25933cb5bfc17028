from __future__ import annotations

from scheduler.core.timers import TimerHeap


def test_due_timers_come_out_earliest_first() -> None:
    heap: TimerHeap[str] = TimerHeap()
    heap.arm("late", 300)
    heap.arm("early", 100)
    heap.arm("middle", 200)
    assert heap.pop_due(250) == [("early", 100), ("middle", 200)]
    assert heap.next_due_ms() == 300
    assert len(heap) == 1


def test_nothing_is_due_before_its_time() -> None:
    heap: TimerHeap[str] = TimerHeap()
    heap.arm("a", 100)
    assert heap.pop_due(99) == []
    assert heap.pop_due(100) == [("a", 100)]


def test_rearming_a_key_replaces_its_timer() -> None:
    heap: TimerHeap[str] = TimerHeap()
    heap.arm("topology", 100)
    heap.arm("topology", 500)
    assert heap.pop_due(400) == []
    assert heap.due_at("topology") == 500
    assert heap.pop_due(500) == [("topology", 500)]


def test_disarmed_timer_never_fires() -> None:
    heap: TimerHeap[str] = TimerHeap()
    heap.arm("a", 100)
    heap.arm("b", 200)
    heap.disarm("a")
    assert "a" not in heap
    assert heap.next_due_ms() == 200
    assert heap.pop_due(1000) == [("b", 200)]
    assert heap.next_due_ms() is None


def test_equal_due_times_keep_arming_order() -> None:
    heap: TimerHeap[str] = TimerHeap()
    for key in ("x", "y", "z"):
        heap.arm(key, 100)
    assert [key for key, _ in heap.pop_due(100)] == ["x", "y", "z"]


def test_many_timers_stay_ordered() -> None:
    heap: TimerHeap[int] = TimerHeap()
    for key in range(10_000):
        heap.arm(key, (key * 7919) % 10_007)
    due = heap.pop_due(10_007)
    assert [d for _, d in due] == sorted(d for _, d in due)
    assert len(due) == 10_000
