"""Load on loopback: 25 concurrent sessions switch pages of one served dashboard for a minute.

Each session is a client speaking the browser's own protocol to Streamlit: a websocket to
`/_stcore/stream` carrying protobuf `BackMsg`s (a `rerun_script` naming the page by the script hash
the server's navigation message gave it, with the sidebar's Region filter as a widget state) and
reading `ForwardMsg`s back until `script_finished`. That is what a browser tab does, without 25
Chromium renderers competing for the machine's two cores with the server being measured.

Checked: every run finishes successfully on the page asked for, draws its page, and sends no
exception element, no error alert and no page-not-found; no session fails; the server's memory (its
whole process tree, sampled, and its own high-water mark) stays under RSS_BOUND_MB; the server still
answers /_stcore/health afterwards and logged no traceback. Latencies are printed, not asserted.

The client (`StreamlitSession`, `served_process`, `tree_rss_kb`) is also used by tests/test_faults.py.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import websockets
from browser import served
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

SESSIONS = int(os.environ.get("ATLAS_LOAD_SESSIONS", 25))  # fewer or shorter, for a quick local try
DURATION = float(os.environ.get("ATLAS_LOAD_SECONDS", 60))  # seconds of switching pages
# Seconds allowed after that for the runs in flight to finish. Not a latency bound: a hang detector.
# Streamlit runs every session's script in one Python process, so 25 runs in flight share about one
# core and each takes ~25x its time alone (0.3-1 s of CPU per page here): 20-40 s, more when other
# jobs load the machine.
DRAIN = 30.0
RSS_BOUND_MB = 1024  # the served app's whole process tree, at its sampled peak and its own VmHWM
# The pages a visitor switches between: the URL paths of dashboard.py's st.Page entries ("" is Overview).
PAGES = ("", "bottlenecks", "need_capacity", "network", "outcomes")
# Each page's title: with a figure, chart or table drawn from the data, proof the page was drawn.
PAGE_MARKS = {"": "Collaboration Atlas", "bottlenecks": "Bottlenecks", "need_capacity": "Need vs capacity",
              "network": "Network map", "outcomes": "Outcomes"}


# ---- a Streamlit websocket client -------------------------------------------------------------------

@dataclass
class Run:
    """What one script run sent back."""

    page: str
    seconds: float = 0.0
    status: str = ""
    page_hash: str = ""  # the page the server says it ran (navigation.page_script_hash)
    elements: dict[str, int] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)  # headings, markdown, metric labels/values, alerts
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "FINISHED_SUCCESSFULLY" and not self.errors

    def text(self) -> str:
        return "\n".join(self.texts)


class StreamlitSession:
    """One browser-like session: a websocket to /_stcore/stream, driven page by page."""

    def __init__(self, base_url: str):
        self.url = base_url.replace("http://", "ws://", 1) + "/_stcore/stream"
        self.ws = None
        self.hashes: dict[str, str] = {}  # url path -> page script hash, from the navigation message
        self.widgets: dict[str, tuple[str, list[str]]] = {}  # selectbox label -> (widget id, options)
        self.region: str | None = None  # the Region filter this session has chosen (None: untouched)

    async def __aenter__(self) -> StreamlitSession:
        # no websocket pings: a browser does not send them either, and under load a late pong would
        # count as a session failure that no visitor sees
        self.ws = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=None,
                                           open_timeout=30, ping_interval=None)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def run(self, page: str) -> Run:
        """Ask for `page` (a URL path) as a click in the navigation does, and read until it finished."""
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = ""
        state.page_name = page
        if page in self.hashes:
            state.page_script_hash = self.hashes[page]
        if self.region is not None and "Region" in self.widgets:
            widget = state.widget_states.widgets.add()
            widget.id = self.widgets["Region"][0]
            widget.string_value = self.region
        run = Run(page)
        started = time.monotonic()
        await self.ws.send(msg.SerializeToString())
        while True:
            forward = ForwardMsg()
            forward.ParseFromString(await self.ws.recv())
            kind = forward.WhichOneof("type")
            if kind == "navigation":
                run.page_hash = forward.navigation.page_script_hash
                self.hashes = {p.url_pathname: p.page_script_hash for p in forward.navigation.app_pages}
            elif kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                self._element(forward.delta.new_element, run)
            elif kind == "page_not_found":
                run.errors.append(f"page not found: {forward.page_not_found.page_name!r}")
            elif kind == "session_event" and forward.session_event.HasField("script_compilation_exception"):
                run.errors.append(f"script compilation: {forward.session_event.script_compilation_exception}")
            elif kind == "script_finished":
                run.status = ForwardMsg.ScriptFinishedStatus.Name(forward.script_finished)
                run.seconds = time.monotonic() - started
                return run

    def _element(self, element, run: Run) -> None:
        kind = element.WhichOneof("type")
        run.elements[kind] = run.elements.get(kind, 0) + 1
        if kind == "exception":
            e = element.exception
            run.errors.append(f"exception element: {e.type}: {e.message} {' | '.join(e.stack_trace)}")
        elif kind == "alert":
            run.texts.append(element.alert.body)
            if element.alert.format == element.alert.ERROR:
                run.errors.append(f"error alert: {element.alert.body}")
        elif kind == "heading":
            run.texts.append(element.heading.body)
        elif kind == "markdown":
            run.texts.append(element.markdown.body)
        elif kind == "metric":
            run.texts.append(f"{element.metric.label}: {element.metric.body}")
        elif kind == "selectbox":
            box = element.selectbox
            self.widgets[box.label] = (box.id, list(box.options))


# ---- the served process and its memory ----------------------------------------------------------

def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def process_tree(pid: int) -> list[int]:
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo += _children(p)
    return tree


def _status_kb(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, in kB."""
    return sum(_status_kb(p, "VmRSS") for p in process_tree(pid))


def tree_hwm_kb(pid: int) -> int:
    """The sum of each live descendant's own peak resident memory (VmHWM), in kB: an upper bound."""
    return sum(_status_kb(p, "VmHWM") for p in process_tree(pid))


def served_process(url: str) -> int:
    """The pid of the `python -m atlas serve` child of this process that serves `url`."""
    port = url.rsplit(":", 1)[1]
    for pid in _children(os.getpid()):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in argv and port.encode() in argv:
            return pid
    raise RuntimeError(f"no server process of this test serves {url}")


class MemorySampler(threading.Thread):
    """Samples a process tree's resident memory every `every` seconds; `peak_kb` is the largest seen."""

    def __init__(self, pid: int, every: float = 0.25):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak_kb = 0
        self.samples = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.pid))
            self.samples += 1
            self._done.wait(self.every)

    def stop(self) -> int:
        self._done.set()
        self.join(timeout=5)
        return self.peak_kb


def health(url: str) -> bytes:
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as response:
        return response.read()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# ---- the load test ----------------------------------------------------------------------------

@dataclass
class SessionLog:
    number: int
    runs: list[Run] = field(default_factory=list)
    failure: str | None = None  # the session itself broke (connection lost, run timed out)


async def visitor(url: str, number: int, start: float, stop_at: float, deadline: float) -> SessionLog:
    """One visitor: lands on the Overview, then keeps switching pages (and now and then the Region
    filter) with a pause to read each, until `stop_at`; a run still unfinished at `deadline` fails."""
    log = SessionLog(number)
    rng = random.Random(number)
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    page = ""
    try:
        async with StreamlitSession(url) as session:
            while True:
                log.runs.append(await asyncio.wait_for(session.run(page), deadline - time.monotonic()))
                if time.monotonic() >= stop_at:
                    break
                await asyncio.sleep(rng.uniform(1.0, 3.0))  # reading the page
                page = rng.choice([p for p in PAGES if p != page])
                if "Region" in session.widgets and rng.random() < 0.2:
                    session.region = rng.choice(session.widgets["Region"][1])
    except TimeoutError:
        log.failure = f"a run of /{page} was still unfinished at the test's deadline"
    except Exception as error:  # any way a session breaks is a failure to report
        log.failure = f"{type(error).__name__}: {error}"
    return log


async def load(url: str) -> list[SessionLog]:
    now = time.monotonic()
    stop_at, deadline = now + DURATION, now + DURATION + DRAIN
    # visitors arrive over the first five seconds, not all in the same instant
    return await asyncio.gather(*(visitor(url, n, now + 5.0 * n / SESSIONS, stop_at, deadline)
                                  for n in range(SESSIONS)))


@pytest.fixture(scope="module")
def server(demo_db, tmp_path_factory):
    log = tmp_path_factory.mktemp("load") / "streamlit.log"
    with served(demo_db, log) as url:
        yield url, served_process(url), log


def test_25_sessions_switch_pages_for_a_minute(server):
    url, pid, log = server
    baseline_kb = tree_rss_kb(pid)
    sampler = MemorySampler(pid)
    sampler.start()
    started = time.monotonic()
    try:
        sessions = asyncio.run(load(url))
    finally:
        peak_kb = sampler.stop()
    took = time.monotonic() - started
    hwm_kb = tree_hwm_kb(pid)

    runs = [run for s in sessions for run in s.runs]
    seconds = [run.seconds for run in runs]
    print(f"\n{SESSIONS} sessions for {took:.0f} s: {len(runs)} runs "
          f"({len(runs) / took:.1f}/s), {sum(r.ok for r in runs)} without error")
    if seconds:
        print(f"run latency p50 {percentile(seconds, .5):.2f} s, p95 {percentile(seconds, .95):.2f} s, "
              f"max {max(seconds):.2f} s")
        for page in PAGES:
            times = [r.seconds for r in runs if r.page == page]
            if times:
                print(f"  /{page:<14} {len(times):4} runs, p50 {statistics.median(times):.2f} s, "
                      f"p95 {percentile(times, .95):.2f} s")
    print(f"server memory: {baseline_kb / 1024:.0f} MB before, sampled peak {peak_kb / 1024:.0f} MB "
          f"({sampler.samples} samples), VmHWM {hwm_kb / 1024:.0f} MB; bound {RSS_BOUND_MB} MB")

    failures = [f"session {s.number}: {s.failure}" for s in sessions if s.failure]
    assert not failures, failures
    assert all(len(s.runs) >= 2 for s in sessions), [len(s.runs) for s in sessions]
    bad = [(run.page, run.status, run.errors[:3]) for run in runs if not run.ok]
    assert not bad, bad[:10]
    # each run drew the page it asked for, not another one or a blank
    hashes = {}
    for run in runs:
        hashes.setdefault(run.page, set()).add(run.page_hash)
        assert PAGE_MARKS[run.page] in run.texts, (run.page, run.texts[:8])
        assert {"metric", "plotly_chart", "dataframe"} & set(run.elements), (run.page, run.elements)
    assert set(hashes) == set(PAGES), sorted(hashes)
    assert all(len(h) == 1 for h in hashes.values()) and len({next(iter(h)) for h in hashes.values()}) == len(PAGES)

    assert peak_kb / 1024 < RSS_BOUND_MB and hwm_kb / 1024 < RSS_BOUND_MB, (peak_kb, hwm_kb)
    assert health(url) == b"ok"
    assert "Traceback" not in log.read_text(errors="replace")
