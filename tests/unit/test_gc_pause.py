"""The one counted pause of the cyclic garbage collector (shared/gc_pause.py)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from shared.gc_pause import collector_paused, pauses_in_progress


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()  # as found, whatever the test left


def test_nested_pauses_resume_only_when_the_last_ends() -> None:
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert pauses_in_progress() == 2
        assert not gc.isenabled()
    assert gc.isenabled()
    assert pauses_in_progress() == 0


def test_a_pause_in_another_thread_keeps_the_collector_off() -> None:
    entered, release = threading.Event(), threading.Event()

    def other() -> None:
        with collector_paused():
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    assert entered.wait(10)
    with collector_paused():
        pass
    assert not gc.isenabled()  # the other thread's pause is still in progress
    release.set()
    thread.join(10)
    assert gc.isenabled()


def test_a_decorated_function_runs_paused_and_an_error_resumes() -> None:
    @collector_paused()
    def fold() -> None:
        assert not gc.isenabled()
        raise ValueError("poison")

    with pytest.raises(ValueError):
        fold()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()
