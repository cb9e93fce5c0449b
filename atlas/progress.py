"""How far a long job has got: an import, an upgrade, the demo's build.

A job reports to a `Progress`: the share of its work done, what it is doing in words, and for an
import the rows read and checked, the rules checked and the problems found so far. The share is its
own estimate (bytes of the files read, then the steps of the model build), so `left` — the time still
to go — is worked out from the time taken so far. Whoever shows it subscribes a function: the command
line draws a bar (`TextBar`), the Data page a Streamlit progress bar (atlas.app). A job without a
subscriber reports to nobody, at no cost.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TextIO

from atlas import formats


@dataclass(frozen=True)
class Step:
    """One report: what the job is doing and how far it has got."""

    done: float  # share of the whole job done, 0 to 1
    doing: str  # what it is doing, e.g. "Reading and checking referrals.csv"
    rows: int = 0  # rows read (and checked) so far
    rules: int = 0  # contract rules checked so far, over every row of their table
    rules_total: int = 0  # rules the files are checked against
    problems: int = 0  # errors found so far
    elapsed: float = 0.0  # seconds since the job began

    @property
    def left(self) -> float | None:
        """Seconds still to go, estimated from the time taken so far; None until there is enough to go by."""
        if self.done >= 1:
            return 0.0
        if self.done < 0.02 or self.elapsed < 1:
            return None
        return self.elapsed * (1 - self.done) / self.done

    def line(self) -> str:
        """The report in one line of words: doing, rows, rules, problems, time left."""
        parts = [self.doing]
        if self.rows:
            parts.append(f"{formats.count(self.rows)} rows read and checked")
        if self.rules_total:
            parts.append(f"{formats.count(self.rules)} of {formats.count(self.rules_total)} rules checked")
        if self.problems:
            parts.append(f"{formats.count(self.problems)} {'problem' if self.problems == 1 else 'problems'} found")
        left = self.left
        if left is not None and self.done < 1:
            parts.append(f"about {duration(left)} left")
        return " · ".join(parts)


def duration(seconds: float) -> str:
    """A time to go in words: "8 s", "1 min 20 s"."""
    seconds = max(0, math.ceil(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"


@dataclass
class Progress:
    """Where a job reports how far it has got; `listener` (if any) gets each `Step`.

    Reports closer together than `every` seconds are not passed on unless the job moved on to something
    else (or finished), so a job may report after every batch without slowing down whoever draws it.
    """

    listener: Callable[[Step], None] | None = None
    every: float = 0.2
    started: float = field(default_factory=time.perf_counter)
    last: Step = field(default_factory=lambda: Step(0.0, "Starting"))
    _sent: float = field(default=-math.inf, repr=False)

    def report(self, done: float | None = None, doing: str | None = None, **counts: int) -> None:
        """Record how far the job has got (only what changed need be given) and tell the listener."""
        now = time.perf_counter()
        moved_on = doing is not None and doing != self.last.doing
        step = replace(self.last, elapsed=now - self.started, **counts)
        if done is not None:
            step = replace(step, done=min(1.0, max(step.done, done)))  # never backwards
        if doing is not None:
            step = replace(step, doing=doing)
        self.last = step
        if self.listener is not None and (now - self._sent >= self.every or moved_on or step.done >= 1):
            self._sent = now
            self.listener(step)

    def finish(self, doing: str = "Done") -> None:
        self.report(1.0, doing)

    def part(self, start: float, end: float) -> Part:
        """The share of the job from `start` to `end`, for a stage that counts its own way from 0 to 1."""
        return Part(self, start, end)


@dataclass
class Part:
    """A stage of a job, reporting its own share done (0 to 1) as a share of the whole."""

    progress: Progress
    start: float
    end: float

    def report(self, done: float | None = None, doing: str | None = None, **counts: int) -> None:
        whole = None if done is None else self.start + (self.end - self.start) * min(1.0, max(0.0, done))
        self.progress.report(whole, doing, **counts)

    def part(self, start: float, end: float) -> Part:
        """A share of this stage, from `start` to `end` of it."""
        span = self.end - self.start
        return Part(self.progress, self.start + span * start, self.start + span * end)

    def finish(self, doing: str = "Done") -> None:
        self.report(1.0, doing)


NOWHERE = Progress()  # reports to nobody


class TextBar:
    """A progress bar on a terminal (redrawn in place); elsewhere (a log, a pipe) a line each time the job
    moves on to something else or another tenth of it is done."""

    WIDTH = 24

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self._tenth = -1
        self._doing = ""
        self._drawn = 0

    def __call__(self, step: Step) -> None:
        filled = int(round(step.done * self.WIDTH))
        text = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {step.done:4.0%} {step.elapsed:6.1f} s  {step.line()}"
        if self.tty:
            pad = max(0, self._drawn - len(text))
            self.stream.write("\r" + text + " " * pad + ("\n" if step.done >= 1 else ""))
            self._drawn = len(text)
        else:
            tenth = int(step.done * 10)
            if tenth == self._tenth and step.doing == self._doing and step.done < 1:
                return
            self._tenth, self._doing = tenth, step.doing
            self.stream.write(text + "\n")
        self.stream.flush()
