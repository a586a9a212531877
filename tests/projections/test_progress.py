"""Read-your-writes waits (projections/progress.py): a waiter returns once every projection that
follows its topics has committed its positions, and each commit wakes only the waiters it satisfies."""

from __future__ import annotations

import threading

from projections.progress import Progress

DEADLINE = 10.0


def _progress() -> Progress:
    progress = Progress()
    progress.register("jobs", ["Job.Created", "Job.Toggled"], 0)
    progress.register("audit", ["Job.Created"], 0)
    progress.register("runs", ["Execution.Started"], 0)
    return progress


def test_a_wait_returns_once_every_projection_following_its_topics_reached_its_position() -> None:
    progress = _progress()
    recorded = [("Job.Created", 7), ("Job.Toggled", 9)]
    assert not progress.wait(recorded, timeout=0)
    progress.advance("jobs", 9)
    assert not progress.wait(recorded, timeout=0), "audit has not committed 7 yet"
    progress.advance("audit", 8)
    assert progress.wait(recorded, timeout=0)  # "runs" follows neither topic


def test_waiters_in_threads_are_woken_by_the_commits_that_reach_their_own_positions() -> None:
    progress = _progress()
    results: dict[int, bool] = {}
    early = threading.Event()

    def wait(position: int) -> None:
        results[position] = progress.wait([("Job.Toggled", position)], timeout=DEADLINE)
        if position == 3:
            early.set()

    threads = {p: threading.Thread(target=wait, args=(p,)) for p in (3, 30)}
    for thread in threads.values():
        thread.start()
    progress.advance("jobs", 5)
    assert early.wait(DEADLINE) and results == {3: True}
    progress.advance("jobs", 30)
    threads[30].join(DEADLINE)
    assert results == {3: True, 30: True}


def test_a_released_projection_holds_no_waiter_and_a_timeout_answers_false() -> None:
    progress = _progress()
    assert not progress.wait([("Execution.Started", 4)], timeout=0.01)
    progress.release("runs", True)
    assert progress.wait([("Execution.Started", 4)], timeout=DEADLINE)
    progress.release("runs", False)
    assert not progress.wait([("Execution.Started", 4)], timeout=0)
    progress.advance("runs", 4)
    assert progress.wait([("Execution.Started", 4)], timeout=0)
