"""Organisation B's hostile input (issue #18's corpus), and the probes that watch organisation
A meanwhile: each request B sends, who sends it, and what the gateway may answer."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

YEAR_ONE = "0001-01-01T00:00:00+00:00"
YEAR_9999 = "9999-12-31T20:00:00+00:00"
EXTREME_ZONES = ("Pacific/Kiritimati", "Pacific/Niue", "Asia/Kathmandu")
MEETINGS_IN_ONE_WEEK = 10_000
TREE_DEPTH = 50
FLAT_TEAMS = 1_000
BIG_IMPORT = 5_000
BAD_ITEM = 2_500
REFUSED = frozenset({422})


@dataclass(frozen=True)
class Case:
    """One hostile request: who sends it (``admin`` or ``employee``) and what it may get."""

    name: str
    who: str
    method: str
    path: str
    body: Any
    expect: frozenset[int]


def meeting(person: uuid.UUID, start: datetime, minutes: int = 30) -> dict[str, Any]:
    """An import item: one observed meeting of ``person`` (timing and counts only)."""
    end = start + timedelta(minutes=minutes)
    return {
        "type": "MeetingObserved",
        "data": {
            "person_id": str(person),
            "connection_id": str(uuid.uuid5(person, "hostile")),
            "meeting_key": uuid.uuid4().hex,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "attendee_count": 3,
            "one_on_one": False,
            "with_manager": False,
            "organizer_is_self": False,
            "response_status": "accepted",
            "recurring": False,
        },
        "occurred_at": start.isoformat(),
    }


def action(person: uuid.UUID, **data: Any) -> dict[str, Any]:
    """An import item: one micro-action of ``person``."""
    payload = {
        "action_id": str(uuid.uuid4()),
        "person_id": str(person),
        "tactic": "learning_bit",
        "minutes": 10,
        "audience": "team",
        **data,
    }
    return {"type": "MicroActionLogged", "data": payload}


def _imported(name: str, item: dict[str, Any]) -> Case:
    return Case(name, "admin", "POST", "/api/v1/events:import", {"events": [item]}, REFUSED)


def _time_items(person: uuid.UUID, moment: str) -> dict[str, dict[str, Any]]:
    """An import item per time field, each carrying ``moment`` there."""
    day, week = moment[:10], f"{moment[:4]}-W01"
    start = datetime.fromisoformat(moment)
    start -= timedelta(hours=1) if start.year > 1 else timedelta(0)  # the meeting ends by then
    return {
        "action occurred_at": {**action(person), "occurred_at": moment},
        "meeting start and end": meeting(person, start),
        "plan week": {
            "type": "WeeklyPlanSet",
            "data": {"person_id": str(person), "week": week, "tactics": ["learning_bit"]},
        },
        "experiment starts_on": {
            "type": "ExperimentStarted",
            "data": {
                "experiment_id": str(uuid.uuid4()),
                "person_id": str(person),
                "tactic": "learning_bit",
                "starts_on": day,
            },
        },
        "feedback expires_at": {
            "type": "FeedbackRequested",
            "data": {
                "request_id": str(uuid.uuid4()),
                "person_id": str(person),
                "question": "Was it useful?",
                "expires_at": moment,
            },
        },
    }


def extreme_times(person: uuid.UUID) -> Iterator[Case]:
    """Year 1 and year 9999 in every time field of the API and of the import: all refused."""
    plan = {"actions": [{"tactic": "learning_bit"}]}
    for label, moment in (("year 1", YEAR_ONE), ("year 9999", YEAR_9999)):
        for name, item in _time_items(person, moment).items():
            yield _imported(f"import {name}, {label}", item)
        week = f"{moment[:4]}-W01"
        pulse = {"answers": {"workload": 3}, "week": week}
        yield Case(f"pulse {label}", "employee", "POST", "/api/v1/pulse", pulse, REFUSED)
        yield Case(f"plan {label}", "employee", "POST", f"/api/v1/plans/{week}", plan, REFUSED)
        body = {"tactic": "learning_bit", "minutes": 5, "audience": "team", "occurred_at": moment}
        yield Case(f"action {label}", "employee", "POST", "/api/v1/actions", body, REFUSED)


def issue_cases(person: uuid.UUID) -> Iterator[Case]:
    """The issue's two attacks, and a week 53 that does not exist (2025 has 52 weeks)."""
    hours = {
        "start": "09:00",
        "end": "17:00",
        "working_days": ["mon", "tue", "wed", "thu", "fri"],
        "time_zone": "Pacific/Kiritimati",
    }
    ok = frozenset({200})
    yield Case("zone Pacific/Kiritimati", "admin", "PUT", "/api/v1/me/working-hours", hours, ok)
    far = meeting(person, datetime.fromisoformat(YEAR_9999))
    yield _imported("a meeting at 9999-12-31T20:00Z in UTC+14", far)
    pulse = {"answers": {"workload": 3}, "week": "0001-W01"}
    yield Case("pulse for 0001-W01", "employee", "POST", "/api/v1/pulse", pulse, REFUSED)
    pulse53 = {"answers": {"workload": 3}, "week": "2025-W53"}
    yield Case("pulse for 2025-W53", "employee", "POST", "/api/v1/pulse", pulse53, REFUSED)
    plan = {"actions": [{"tactic": "learning_bit"}]}
    yield Case("plan for 2025-W53", "employee", "POST", "/api/v1/plans/2025-W53", plan, REFUSED)


def many_meetings(person: uuid.UUID, monday: datetime) -> list[dict[str, Any]]:
    """:data:`MEETINGS_IN_ONE_WEEK` meetings of one person in the week of ``monday``."""
    step = timedelta(days=7) / MEETINGS_IN_ONE_WEEK
    return [meeting(person, monday + i * step) for i in range(MEETINGS_IN_ONE_WEEK)]


def import_with_one_bad(person: uuid.UUID) -> list[dict[str, Any]]:
    """:data:`BIG_IMPORT` actions, the one at :data:`BAD_ITEM` with no minutes at all."""
    items = [action(person) for _ in range(BIG_IMPORT)]
    items[BAD_ITEM] = action(person, minutes=0)
    return items


@dataclass
class Sampler:
    """Calls ``probe`` every ``every`` seconds on a thread of its own, keeping what it returns."""

    probe: Callable[[], float | None]
    every: float = 0.2
    values: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(30)

    def wait_for(self, count: int, timeout: float = 120.0) -> None:
        """Wait until ``count`` values were sampled."""
        deadline = time.monotonic() + timeout
        while len(self.values) < count:
            assert time.monotonic() < deadline, f"{len(self.values)} of {count} samples"
            assert self._thread is not None and self._thread.is_alive(), "the sampler stopped"
            time.sleep(self.every)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                value = self.probe()
            except Exception as error:  # kept, and asserted on by the test
                self.errors.append(repr(error))
                continue
            if value is not None:
                self.values.append(value)


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile (0..1) of ``values``, nearest rank; 0 when there are none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def rss_mb(pid: int) -> float:
    """The resident memory of process ``pid``, in MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """``call()``'s result and its wall time in seconds."""
    started = time.perf_counter()
    return call(), time.perf_counter() - started
