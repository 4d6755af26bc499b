"""The timer queue: order, cancellation, and that cancelled timers do not pile up in its heap."""

from __future__ import annotations

import threading

from elasticjob_cloud.localmesos.timers import TimerQueue


def test_cancelled_timers_are_dropped_and_the_rest_fire_in_order() -> None:
    timers = TimerQueue("test-timers")
    timers.start()
    try:
        fired: list[int] = []
        done = threading.Event()
        live = [timers.call_later(0.2 + i / 1000, lambda i=i: fired.append(i)) for i in range(5)]
        for _ in range(3):  # an update retry timer per round, each cancelled by its ack
            for handle in [timers.call_later(60.0, lambda: fired.append(-1)) for _ in range(1000)]:
                handle.cancel()
                handle.cancel()  # idempotent
        timers.call_later(0.3, done.set)  # the next timer armed finds them the majority
        assert len(timers._heap) <= len(live) + 1
        assert done.wait(5)
        assert fired == [0, 1, 2, 3, 4]
    finally:
        timers.stop()


def test_a_later_timer_does_not_delay_an_earlier_one() -> None:
    timers = TimerQueue("test-timers")
    timers.start()
    try:
        early = threading.Event()
        timers.call_later(30.0, lambda: None)
        timers.call_later(0.05, early.set)
        timers.call_later(40.0, lambda: None)
        assert early.wait(5)
    finally:
        timers.stop()
