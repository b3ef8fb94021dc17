"""``accord demo``: the inventory incident (seed 003), replayed by real agent processes.

Order agents sell and inventory agents restock one item at the same time. Each
change is a read-modify-write of the stock, and without coordination two agents
that read the same stock overwrite each other::

    order agent:     reads 5 ......... thinks ......... writes 5 - 3 = 2
    inventory agent:     reads 5 ... thinks ... writes 5 - 1 = 4     <- the sale is lost

The demo runs that workload three times with the same agent processes: first
uncoordinated (read, think, write), then with ``state.update`` (think, then an
atomic read-modify-write), then with a lock held around read, think and write.

Every write records the version it read and the version it made. Versions grow by
exactly one per write, so the writes whose effect survives form a chain back from
the final version; every write off that chain is a lost update. The final stock is
checked against that chain, so the table's figures are measured, not assumed.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import accord
from accord.backends import resolve_url
from accord.errors import AccordError

if TYPE_CHECKING:  # rich is imported only to show results, not in every agent process
    from rich.console import Console
    from rich.table import Table

MODES = ("uncoordinated", "state.update", "lock")
ITEM = "sku-1"
MAP = "inventory"
DEFAULT_AGENTS = 8
DEFAULT_OPS = 25
DEFAULT_THINK = 0.004


class DemoFailed(Exception):
    """An agent failed or stopped answering; the message says which and why."""


@dataclass(frozen=True)
class DemoConfig:
    """What to replay: ``agents`` workers doing ``ops`` changes each, on ``url``."""

    url: str
    agents: int = DEFAULT_AGENTS
    ops: int = DEFAULT_OPS
    think: float = DEFAULT_THINK

    @property
    def in_process(self) -> bool:
        """``memory://`` lives in one process, so its agents are threads."""
        return self.url.startswith("memory://")


@dataclass(frozen=True)
class Write:
    """One change of the stock: the version it read, the version it made, the delta."""

    read: int
    version: int
    delta: int


@dataclass(frozen=True)
class ModeResult:
    """The outcome of one mode; ``final == expected - lost_delta`` always holds."""

    mode: str
    initial: int
    expected: int
    final: int
    writes: int
    lost: int
    lost_delta: int
    seconds: float


OnProgress = Callable[[str, int, int], None]
"""Called with (step, done, total): step "agents" while they start, then each mode."""


def _quiet(step: str, done: int, total: int) -> None:
    pass


def delta(agent: int, op: int) -> int:
    """Even agents take orders (sell 1-3 units), odd agents restock (1-3 units)."""
    size = 1 + (agent + op) % 3
    return -size if agent % 2 == 0 else size


def initial_stock(cfg: DemoConfig) -> int:
    """Enough stock that the sales alone could never take it below zero."""
    return 3 * cfg.ops * ((cfg.agents + 1) // 2)


def role(agent: int) -> str:
    return f"order-agent-{agent}" if agent % 2 == 0 else f"inventory-agent-{agent}"


# --- one agent -----------------------------------------------------------------------


class _Progress(Protocol):
    def __getitem__(self, index: int) -> int: ...
    def __setitem__(self, index: int, value: int) -> None: ...


def _change(coord: accord.Coordinator, mode: str, d: int, think: float) -> Write:
    inv = coord.state(MAP)
    if mode == "uncoordinated":
        seen = inv.get(ITEM)
        assert seen is not None
        time.sleep(think)
        made = inv.set(ITEM, seen.value + d)
        return Write(seen.version, made.version, d)
    if mode == "state.update":
        time.sleep(think)
        made = inv.update(ITEM, lambda stock: stock + d)
        return Write(made.version - 1, made.version, d)
    with coord.lock(ITEM, ttl=30, timeout=60) as lease:
        seen = inv.get(ITEM)
        assert seen is not None
        time.sleep(think)
        made = inv.set(ITEM, seen.value + d, fence=lease)
        return Write(seen.version, made.version, d)


def agent_loop(
    url: str,
    namespace: str,
    index: int,
    cfg: tuple[int, float],
    commands: Any,
    results: Any,
    progress: _Progress,
) -> None:
    """The body of one agent (a process, or a thread on ``memory://``).

    Waits for a mode on ``commands``, makes its changes, and answers on ``results``
    with ("done", index, writes) or ("error", index, message); None ends it.
    """
    ops, think = cfg
    try:
        with accord.connect(url, namespace=namespace, agent=role(index)) as coord:
            results.put(("ready", index, None))
            while (mode := _next_command(commands)) is not None:
                writes = []
                for op in range(ops):
                    writes.append(_change(coord, mode, delta(index, op), think))
                    progress[index] = op + 1
                results.put(("done", index, writes))
    except KeyboardInterrupt:  # Ctrl-C reaches every process; the parent reports it
        pass
    except Exception as exc:
        results.put(("error", index, _describe(exc)))


def _next_command(commands: Any) -> str | None:
    """The next mode, or None to stop (also when the demo's own process is gone)."""
    parent = multiprocessing.parent_process()
    while True:
        try:
            command: str | None = commands.get(timeout=0.5)
            return command
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                return None


def _describe(exc: BaseException) -> str:
    text = str(exc).replace("\n", " ")
    return text if isinstance(exc, AccordError) else f"{type(exc).__name__}: {text}"


# --- the crew of agents ----------------------------------------------------------------


class _Crew:
    """``agents`` workers that run each mode on command; processes unless in-process."""

    def __init__(self, cfg: DemoConfig, namespace: str) -> None:
        self.cfg = cfg
        self.workers: list[Any] = []
        self.commands: list[Any] = []
        if cfg.in_process:
            self.results: Any = queue.Queue()
            self.progress: _Progress = [0] * cfg.agents
            make_queue: Callable[[], Any] = queue.Queue
            make_worker: Callable[..., Any] = threading.Thread
        else:
            ctx = multiprocessing.get_context("spawn")
            self.results = ctx.Queue()
            self.progress = ctx.Array("i", cfg.agents, lock=False)
            make_queue = ctx.Queue
            make_worker = ctx.Process
        for i in range(cfg.agents):
            commands = make_queue()
            args = (cfg.url, namespace, i, (cfg.ops, cfg.think), commands, self.results,
                    self.progress)
            worker = make_worker(target=agent_loop, args=args, daemon=True,
                                 name=f"accord-demo-{role(i)}")
            self.commands.append(commands)
            self.workers.append(worker)

    def start(self, deadline: float, tick: Callable[[int], None]) -> None:
        """Start every agent and wait until each has connected to the store."""
        for worker in self.workers:
            worker.start()
        self._collect(deadline, lambda answers: tick(len(answers)))

    def run(self, mode: str, deadline: float, tick: Callable[[int], None]) -> list[Write]:
        """Every agent makes its changes in ``mode``; all their writes."""
        for i in range(self.cfg.agents):
            self.progress[i] = 0
        for commands in self.commands:
            commands.put(mode)
        answers = self._collect(deadline, lambda _: tick(self._done()))
        return [w for writes in answers for w in writes]

    def _done(self) -> int:
        return sum(self.progress[i] for i in range(self.cfg.agents))

    def _collect(self, deadline: float, tick: Callable[[dict[int, Any]], None]) -> list[Any]:
        answers: dict[int, Any] = {}
        while len(answers) < self.cfg.agents:
            try:
                what, index, payload = self.results.get(timeout=0.05)
            except queue.Empty:
                self._check(deadline, answers)
            else:
                if what == "error":
                    raise DemoFailed(f"{role(index)} failed: {payload}")
                answers[index] = payload
            tick(answers)
        return [answers[i] for i in range(self.cfg.agents)]

    def _check(self, deadline: float, answered: dict[int, Any]) -> None:
        for i, worker in enumerate(self.workers):
            if i not in answered and not worker.is_alive():
                code = getattr(worker, "exitcode", None)
                raise DemoFailed(f"{role(i)} exited unexpectedly (exit code {code})")
        if time.monotonic() > deadline:
            raise DemoFailed("the agents did not finish in time; is the store responsive?")

    def stop(self) -> None:
        for commands in self.commands:
            commands.put(None)
        end = time.monotonic() + 5
        for worker in self.workers:
            if worker.is_alive() and worker.ident is not None:
                worker.join(max(0.0, end - time.monotonic()))
            if worker.is_alive() and hasattr(worker, "terminate"):
                worker.terminate()
                worker.join(1)


# --- measuring -------------------------------------------------------------------------


def lost_writes(writes: Sequence[Write], start: int, final: int) -> list[Write]:
    """The writes whose effect the final version does not contain.

    Follows the chain of versions back from ``final`` to ``start`` (each write made
    its version from the one it read); every write off the chain was overwritten.
    """
    made = {w.version: w for w in writes}
    if len(made) != len(writes):
        raise DemoFailed("two writes reported the same version; the store lost its order")
    kept: set[int] = set()
    version = final
    while version != start:
        write = made.get(version)
        if write is None or write.read >= version:
            raise DemoFailed(f"version {version} of the stock has no recorded writer")
        kept.add(version)
        version = write.read
    return [w for w in writes if w.version not in kept]


def measure(coord: accord.Coordinator, crew: _Crew, mode: str, progress: OnProgress) -> ModeResult:
    """Reset the stock, run ``mode`` on every agent, and account for every write."""
    cfg = crew.cfg
    inv = coord.state(MAP)
    initial = initial_stock(cfg)
    start = inv.set(ITEM, initial).version
    expected = initial + sum(delta(a, o) for a in range(cfg.agents) for o in range(cfg.ops))
    budget = 30.0 + cfg.agents * cfg.ops * (cfg.think + 0.05)
    total = cfg.agents * cfg.ops
    progress(mode, 0, total)
    began = time.monotonic()
    writes = crew.run(mode, began + budget, lambda done: progress(mode, done, total))
    seconds = time.monotonic() - began
    final = inv.get(ITEM)
    if final is None:
        raise DemoFailed(f"the stock of {ITEM!r} disappeared from the store")
    lost = lost_writes(writes, start, final.version)
    lost_delta = sum(w.delta for w in lost)
    if final.value != expected - lost_delta:
        raise DemoFailed(f"final stock {final.value} does not match the recorded writes")
    return ModeResult(mode, initial, expected, final.value, len(writes), len(lost),
                      lost_delta, seconds)


@contextmanager
def store(cfg: DemoConfig) -> Iterator[accord.Coordinator]:
    """The demo's coordinator on a fresh namespace, so runs never interfere.

    Connecting and writing the starting stock here surfaces a bad URL or a store
    that is down (AccordError) before any agent starts. The namespace is dropped at
    the end, so a run leaves nothing behind in the store.
    """
    namespace = f"demo-{uuid.uuid4().hex[:8]}"
    with accord.connect(cfg.url, namespace=namespace, agent="demo") as coord:
        try:
            coord.state(MAP).set(ITEM, initial_stock(cfg))
            yield coord
        finally:
            with suppress(AccordError):  # a store gone: its error came first
                coord.drop_namespace(confirm=namespace)


def replay(
    coord: accord.Coordinator, cfg: DemoConfig, progress: OnProgress = _quiet
) -> list[ModeResult]:
    """Run every mode with one crew of agents on ``coord``'s namespace.

    Raises AccordError or DemoFailed; no agent outlives it.
    """
    crew = _Crew(cfg, coord.namespace)
    try:
        crew.start(time.monotonic() + 60, lambda n: progress("agents", n, cfg.agents))
        return [measure(coord, crew, mode, progress) for mode in MODES]
    finally:
        crew.stop()


def run(cfg: DemoConfig, progress: OnProgress = _quiet) -> list[ModeResult]:
    """Replay the incident in every mode on a fresh namespace and return the results."""
    with store(cfg) as coord:
        return replay(coord, cfg, progress)


def config(url: str | None, agents: int, ops: int, think: float) -> DemoConfig:
    """A config with the store URL resolved as ``accord.connect`` resolves it."""
    return DemoConfig(resolve_url(url), agents, ops, think)


# --- showing it --------------------------------------------------------------------------


def show(cfg: DemoConfig, console: Console) -> list[ModeResult]:
    """Run the demo with a progress display, then print the table and the conclusion."""
    from rich import progress as rp

    kind = "threads (memory:// is one process)" if cfg.in_process else "processes"
    columns = (rp.TextColumn("{task.description:<16}"), rp.BarColumn(),
               rp.MofNCompleteColumn(), rp.TimeElapsedColumn())
    with store(cfg) as coord, rp.Progress(*columns, console=console) as bars:
        console.print(
            f"Replaying the inventory incident: {cfg.agents} agent {kind} each make "
            f"{cfg.ops} sales or restocks of one item (stock starts at "
            f"{initial_stock(cfg)}) on [bold]{coord.url}[/], namespace {coord.namespace}."
        )
        tasks: dict[str, rp.TaskID] = {}

        def on_progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                for task in tasks.values():
                    bars.stop_task(task)
                label = "starting agents" if step == "agents" else step
                tasks[step] = bars.add_task(label, total=total)
            bars.update(tasks[step], completed=done)

        results = replay(coord, cfg, on_progress)
    console.print(table(results))
    console.print(conclusion(results))
    return results


def table(results: Sequence[ModeResult]) -> Table:
    """Mode, expected stock, final stock, lost updates, time."""
    from rich.table import Table

    out = Table(title="Inventory after every agent is done")
    for header in ("mode", "expected stock", "final stock", "lost updates", "time"):
        out.add_column(header, justify="left" if header == "mode" else "right")
    for r in results:
        style = "green" if r.lost == 0 and r.final == r.expected else "red"
        lost = "0" if r.lost == 0 else f"{r.lost} of {r.writes}"
        out.add_row(r.mode, str(r.expected), f"[{style}]{r.final}[/]", f"[{style}]{lost}[/]",
                    f"{r.seconds:.2f} s")
    return out


def conclusion(results: Sequence[ModeResult]) -> str:
    """One sentence on what the run shows."""
    plain, *coordinated = results
    if any(r.lost or r.final != r.expected for r in coordinated):
        return ("[red]A coordinated mode lost updates: that is a bug in accord or in the "
                "store; please report it with this output.[/]")
    if plain.lost == 0:
        return ("This run lost no updates even uncoordinated because the agents barely "
                "overlapped; the race is still there, try more --agents or --ops.")
    off = plain.final - plain.expected
    side = "above" if off > 0 else "below"
    where = f"{abs(off)} units {side} what it should be" if off else "right only by luck"
    return (
        f"Uncoordinated, the agents lost {plain.lost} of {plain.writes} updates and left the "
        f"stock {where}; with state.update or a lock, none were lost."
    )

