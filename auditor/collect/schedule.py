"""Scheduling reads: a bucket's facets go out concurrently, in stages decided as answers come in.

A bucket's read is a small state machine (`BucketRead`): the region first where the listing
gave none, then every facet some stated control needs unconditionally, all at once; then the
facets a control lets go unread (an ACL under an effective IgnorePublicAcls) once the facets
that decide it are in; then the KMS keys once the encryption is known. Each facet read is one
task on a shared pool of daemon threads; the limit on requests in flight is the lean read
path's `Limiter` (which also backs off on throttling).

Daemon threads because the run must end when its deadline passes or it is stopped, whatever
an endpoint does (accept and never answer, answer one byte at a time): the reports are
written from what was read, and a thread stuck in a socket read is abandoned, never joined.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from itertools import islice

from auditor.causes import DEADLINE_EXCEEDED, INTERRUPTED
from auditor.collect import Collector, Target, failed_state
from auditor.collect.facets import FACETS
from auditor.collect.lean import Limiter
from auditor.collect.read import GONE_CODES
from auditor.model import BucketState, Facet, FacetValue, NotRead, Unreadable

Task = Callable[[], None]
# After a stop, what is in flight gets this long to come back before it is reported unread.
STOP_GRACE = 2.0


class Pool:
    """`size` daemon threads running tasks from one queue."""

    def __init__(self, size: int) -> None:
        self._tasks: queue.SimpleQueue[Task | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"s3audit-{i}", daemon=True)
                         for i in range(max(1, size))]
        for thread in self._threads:
            thread.start()

    def submit(self, task: Task) -> None:
        self._tasks.put(task)

    def _work(self) -> None:
        while (task := self._tasks.get()) is not None:
            task()

    def close(self) -> None:
        for _ in self._threads:
            self._tasks.put(None)


class BucketRead:
    """One bucket's reads; `future` gets its BucketState."""

    def __init__(self, collector: Collector, target: Target, submit: Callable[[Task], None],
                 stop: threading.Event | None = None) -> None:
        self.collector = collector
        self.target = target
        self.future: Future[BucketState] = Future()
        self._submit = submit
        self._stop = stop
        self._values: dict[Facet, FacetValue] = {}
        self._region = target.region
        self._pending = 0
        self._lock = threading.Lock()
        self._skips = dict(target.skips)
        self._account = collector.account_id()

    def start(self) -> BucketRead:
        t = self.target
        if t.listed is False:  # why it is not there (HeadBucket), off the scheduling thread
            self._submit(lambda: self._finish(BucketState(t.name, self._account_id, t.region, exists=False,
                                                          absence=self.collector.absence(t.name))))
        elif not t.facets:
            self._finish(BucketState(t.name, self._account_id, t.region))
        elif self._region is None:
            self._launch([Facet.LOCATION])
        else:
            if Facet.LOCATION in t.facets:
                self._values[Facet.LOCATION] = self._region
            self._next()
        return self

    def run_inline(self) -> BucketState:
        """Every task run in the calling thread, one after another."""
        self.start()
        return self.future.result()

    @property
    def _account_id(self) -> str:
        return self._account if isinstance(self._account, str) else ""

    def _launch(self, facets: list[Facet]) -> None:
        self._pending = len(facets)
        for facet in facets:
            self._submit(lambda f=facet: self._read(f))  # type: ignore[misc]

    def _read(self, facet: Facet) -> None:
        try:
            value = self._value(facet)
        except Exception as exc:  # a collector bug is this facet's error, not a hung bucket
            value = Unreadable(facet, "(collector)", type(exc).__name__, str(exc))
        with self._lock:
            self._values[facet] = value
            self._pending -= 1
            last = self._pending == 0
        if last:
            try:
                self._next()
            except Exception as exc:
                self._finish(failed_state(self.target, "(collector)", type(exc).__name__, str(exc)))

    def _value(self, facet: Facet) -> FacetValue:
        spec = FACETS[facet]
        if facet is Facet.LOCATION:
            return self.collector.read(spec, None, self.target.name)
        if facet is Facet.KMS_KEYS:  # the keys every other facet shows the bucket using
            others = tuple(v for f, v in sorted(self._values.items()) if f is not Facet.KMS_KEYS)
            return self.collector.kms_keys(self.target, others, self._region)
        if facet is Facet.ACCESS_POINTS:
            return self.collector.access_points(self.target.name, self._region, self._account)
        if facet is Facet.OBJECTS:
            return self.collector.objects(self.target, self._region)
        if spec.scope == "account":
            return self.collector.account_facet(facet, self._account)
        if spec.scope == "region":
            return self.collector.regional_facet(facet, self._region, self.target.name)
        return self.collector.read(spec, self._region, self.target.name)

    def _next(self) -> None:
        """Launch the next stage, or finish the bucket."""
        values, t = self._values, self.target
        if Facet.LOCATION in values and self._region is None:
            location = values[Facet.LOCATION]
            self._region = location if isinstance(location, str) else None
            if Facet.LOCATION not in t.facets:
                del values[Facet.LOCATION]
        if any(isinstance(v, Unreadable) and v.code in GONE_CODES for v in values.values()):
            self._finish(BucketState(t.name, self._account_id, None if self._region is None else
                                     self._region, exists=False))
            return
        stage = self._stage()
        if stage and self._stop is not None and self._stop.is_set():
            for facet in stage:
                values[facet] = Unreadable(facet, "(run)", INTERRUPTED, "the run was interrupted "
                                           "before this facet was read")
            stage = []
        if stage:
            self._launch(stage)
            return
        ordered = tuple((f, values[f]) for f in sorted(values))
        self._finish(BucketState(t.name, self._account_id, self._region, True, ordered))

    def _stage(self) -> list[Facet]:
        """The facets that can be read now; skipped ones are settled as NotRead (repeatedly:
        one settled skip can decide another, the ownership an ACL's)."""
        values = self._values
        # A principal's facets (an IAM role) are not the bucket's: the run reads them apart.
        wanted = frozenset(f for f in self.target.facets if FACETS[f].scope != "principal")
        settled, out = True, list[Facet]()
        while settled:
            settled, out = False, []
            for facet in sorted(wanted - values.keys()):
                if facet is Facet.KMS_KEYS:  # last: its keys come from the other facets
                    if wanted - values.keys() == {Facet.KMS_KEYS}:
                        out.append(facet)
                    continue
                skips = self._skips.get(facet)
                if skips is None:
                    out.append(facet)
                elif all(f in values for s in skips for f in s.after if f in wanted):
                    reasons = [s.unneeded(*(values.get(f) for f in s.after)) for s in skips]
                    if all(reasons):
                        values[facet] = NotRead(facet, str(reasons[0]))
                        settled = True
                    else:
                        out.append(facet)
        return out

    def _finish(self, state: BucketState) -> None:
        if not self.future.done():
            self.future.set_result(state)


def collect(
    jobs: Iterable[tuple[Collector, Target]], concurrency: int = 32, deadline: float | None = None,
    stop: threading.Event | None = None,
) -> Iterator[BucketState]:
    """Read every target (each with its account's collector), yielding states in order.

    `concurrency` is the number of requests in flight (lowered while AWS throttles).
    `deadline` is a time.monotonic() value and `stop` an event (a signal): buckets not read
    by then come back with every facet Unreadable ("DeadlineExceeded", "Interrupted"), and
    no new read starts, so the run still reports, and never hangs.
    """
    size = max(1, concurrency)
    limiter = Limiter(size)
    pool = Pool(size)
    window = size * 2  # buckets in progress: a state is held only until it is yielded
    pending: deque[BucketRead] = deque()
    todo = iter(jobs)
    seen: set[int] = set()
    stopped_at: float | None = None
    try:
        while True:
            if stop is not None and stop.is_set() and stopped_at is None:
                stopped_at = time.monotonic()
            if stopped_at is None and (deadline is None or time.monotonic() < deadline):
                for collector, target in islice(todo, window - len(pending)):
                    pending.append(_start(collector, target, pool, seen, limiter, stop, deadline))
            if not pending:
                break
            read = pending.popleft()
            yield _result(read, deadline, stop, stopped_at)
        for _, target in todo:  # never started: the deadline passed or the run was stopped
            yield _unstarted(target, stopped_at is not None)
    finally:
        pool.close()


def _start(collector: Collector, target: Target, pool: Pool, seen: set[int], limiter: Limiter,
           stop: threading.Event | None, deadline: float | None) -> BucketRead:
    read = BucketRead(collector, target, pool.submit, stop)
    ready = collector.prepared(target)
    if ready is not None:  # nothing to read (a saved state)
        read.future.set_result(ready)
        return read
    if id(collector) not in seen:
        seen.add(id(collector))
        _arm(collector, limiter, stop, deadline)
    return read.start()


def _arm(collector: Collector, limiter: Limiter, stop: threading.Event | None,
         deadline: float | None) -> None:
    lean = collector.clients.lean
    lean.limiter, lean.stop, lean.deadline = limiter, stop, deadline
    collector.deadline = deadline


def _result(read: BucketRead, deadline: float | None, stop: threading.Event | None,
            stopped_at: float | None) -> BucketState:
    until = deadline
    while True:
        if stopped_at is not None:
            until = min(until or float("inf"), stopped_at + STOP_GRACE)
        step = 0.2 if stop is not None and stopped_at is None else None
        wait = None if until is None else max(0.0, until - time.monotonic())
        if step is not None:
            wait = step if wait is None else min(wait, step)
        try:
            return read.future.result(timeout=wait)
        except FutureTimeout:
            if stop is not None and stop.is_set() and stopped_at is None:
                stopped_at = time.monotonic()
                continue
            if until is not None and time.monotonic() >= until:
                return _unstarted(read.target, stopped_at is not None)


def _unstarted(target: Target, stopped: bool) -> BucketState:
    if stopped:
        return failed_state(target, "(run)", INTERRUPTED, "the run was interrupted before this bucket was read")
    return failed_state(target, "(run)", DEADLINE_EXCEEDED, "the run's deadline passed before this bucket was read")
