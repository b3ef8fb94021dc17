"""The dashboard's panels: each one a title, the hub topics it shows, and a renderer.

A panel renders its body from the :class:`~accord.surfaces.dashboard.hub.Hub` as
escaped HTML (:mod:`.html`); the page is these bodies, and when a topic a panel shows
changes, its body is rendered once and pushed to every browser. To add a panel (agents,
the task queue, approvals, the board, the audit log): write its renderer here or in a
module of its own, and put a :class:`Panel` in :data:`PANELS` in the order the page
shows them. Data the hub does not follow yet comes with a hub topic of its own.

A lock row ends with the buttons of :data:`LOCK_ACTIONS` (empty today: force unlock
comes with the agents' kill switch), each a function of the lock's document.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from accord.surfaces import views
from accord.surfaces.dashboard import panels_work as work
from accord.surfaces.dashboard.html import Safe, fmt, join
from accord.surfaces.dashboard.hub import KEEP_EVENTS, KEEP_SECONDS, Hub, Second


@dataclass(frozen=True)
class Panel:
    """``id`` names it in the page, ``topics`` re-render it, ``size``: its width in the
    grid (``full``, ``wide``: two thirds, ``narrow``: one third)."""

    id: str
    title: str
    render: Callable[[Hub], Safe]
    topics: frozenset[str] = frozenset()
    size: str = "wide"
    note: str = ""


# --- summary -------------------------------------------------------------------------------


def summary(hub: Hub) -> Safe:
    doc = views.locks_summary(hub.locks)
    now = int(time.time())
    last_minute = sum(s.events for s in hub.seconds if s.at > now - 60)
    permits = sum(len(d["holders"]) for d in hub.locks)
    tiles = [
        _tile("Held", doc["held"], f"{_n(doc['locks'], 'lock')} · "
              f"{_n(doc['semaphores'], 'semaphore')}"
              + (f" · {_n(permits, 'holder')}" if permits != doc["held"] else ""), "held"),
        _tile("Waiting", doc["waiting"], "agents queued for a lock", "waiting"),
        _tile("Events", last_minute, "in the last minute", "events"),
        _tile("Store", "down" if hub.error else "live",
              hub.error or "pushing events, listing locks every "
              f"{hub.refresh:g} s", "down" if hub.error else "up"),
    ]
    return join(tiles)


def _n(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _tile(label: str, value: object, note: str, tone: str) -> Safe:
    return fmt('<div class="tile tone-{tone}"><div class="tile-label">{label}</div>'
               '<div class="tile-value">{value}</div><div class="tile-note">{note}</div></div>',
               tone=tone, label=label, value=value, note=note)


# --- locks ---------------------------------------------------------------------------------

def _force_unlock(doc: views.Doc) -> Safe:
    if doc["kind"] != "lock" or not doc["holders"]:
        return Safe("")
    return work.button("unlock", "Force unlock", "danger", reason=True, name=doc["name"])


LOCK_ACTIONS: list[Callable[[views.Doc], Safe]] = [_force_unlock]
"""Buttons at the end of a lock's row."""


def locks(hub: Hub) -> Safe:
    if not hub.locks:
        return Safe('<p class="empty">No lock or semaphore is held or waited for. '
                    "One taken anywhere shows here within "
                    f"{hub.refresh:g} s.</p>")
    rows = [_lock_rows(doc, hub.ttl_seen) for doc in hub.locks]
    head = Safe("<thead><tr><th>name</th><th>holder</th><th class=num>token</th>"
                "<th>time left</th><th>waiters</th><th></th></tr></thead>")
    return fmt('<table class="locks">{head}<tbody>{rows}</tbody></table>',
               head=head, rows=join(rows))


def _lock_rows(doc: views.Doc, ttl_seen: dict[tuple[str, int], float]) -> Safe:
    """A row per holder; the name, waiters and actions span them (a semaphore)."""
    kind = (fmt('<span class="kind">{k}</span>', k=doc["kind"])
            if doc["kind"] in ("lock", "file") else
            fmt('<span class="kind sem">semaphore {n}/{limit}</span>',
                n=len(doc["holders"]), limit=doc["limit"]))
    waiters = join([fmt('<span class="chip">{w}</span>', w=w) for w in doc["waiters"]])
    span = max(len(doc["holders"]), 1)
    head = fmt('<td class="lockname" rowspan="{n}"><span class="mono">{name}</span>{kind}</td>',
               n=span, name=doc["name"], kind=kind)
    tail = fmt('<td rowspan="{n}" class="waiters">{waiters}</td><td rowspan="{n}">{actions}</td>',
               n=span, waiters=waiters or Safe('<span class="muted">none</span>'),
               actions=join([action(doc) for action in LOCK_ACTIONS]))
    if not doc["holders"]:
        return fmt('<tr>{head}<td class="muted">free</td><td></td><td></td>{tail}</tr>',
                   head=head, tail=tail)
    rows = [
        fmt("<tr>{head}{cells}{tail}</tr>", head=head if i == 0 else Safe(""),
            cells=_holder_cells(doc["name"], holder, ttl_seen), tail=tail if i == 0 else Safe(""))
        for i, holder in enumerate(doc["holders"])
    ]
    return join(rows)


def _holder_cells(name: str, holder: views.Doc, ttl_seen: dict[tuple[str, int], float]) -> Safe:
    """Agent, token, and time left as a bar that the page runs down between listings."""
    left = holder["expires_in"]
    total = max(ttl_seen.get((name, holder["token"]), 0.0), left)
    return fmt(
        '<td>{agent}{intent}</td><td class="num mono">#{token}</td>'
        '<td><span class="ttl" data-expires-in="{left}" data-ttl="{total}">'
        '<svg class="bar" viewBox="0 0 100 6" preserveAspectRatio="none">'
        '<rect class="bar-bg" width="100" height="6" rx="3"/>'
        '<rect class="bar-fg" width="{pct}" height="6" rx="3"/></svg>'
        '<span class="secs">{shown}</span></span></td>',
        agent=_agent(holder["agent"]), token=holder["token"], left=left,
        intent=fmt('<div class="intent">{i}</div>', i=holder["intent"]) if holder.get("intent")
        else Safe(""),
        total=round(total, 3), pct=_pct(left, total), shown=f"{left:.1f} s",
    )


def _pct(left: float, total: float) -> str:
    return f"{100 * left / total:.1f}" if total > 0 else "0"


_agent = work.agent_chip
_hue = work.hue


# --- chart ---------------------------------------------------------------------------------

W, H, PAD = 600, 240, 24
BARS = 22  # height of the events-per-second strip under the base line


def chart(hub: Hub) -> Safe:
    """The last minute at first, growing to five: holders and waiters (the most seen in
    each second) as lines, events per second as bars under them."""
    now = int(time.time())
    first = hub.seconds[0].at if hub.seconds else now
    window = min(KEEP_SECONDS, max(60, now - first + 1))
    by_second = {s.at: s for s in hub.seconds}
    span = [by_second.get(t) for t in range(now - window + 1, now + 1)]
    top = _nice(max([1] + [max(s.held, s.waiting) for s in span if s is not None]))
    base = H - PAD - BARS
    grid = join([fmt('<line class="grid" x1="0" x2="{w}" y1="{y}" y2="{y}"/>'
                     '<text class="axis" x="0" y="{ty}">{v}</text>',
                     w=W, y=_y(v, top), ty=_y(v, top) - 4, v=v) for v in (top, top // 2)
                 if v > 0])
    last = next((s for s in reversed(span) if s is not None), Second(now))
    legend = fmt(
        '<div class="legend"><span><i class="key held"></i>holders <b>{h}</b></span>'
        '<span><i class="key waiting"></i>waiters <b>{w}</b></span>'
        '<span><i class="key events"></i>events <b>{e}</b>/s</span></div>',
        h=last.held, w=last.waiting, e=last.events)
    svg = fmt(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="holders and '
        'waiters per second">{grid}{bars}'
        '<path class="area held" d="{held_area}"/><path class="line held" d="{held}"/>'
        '<path class="line waiting" d="{waiting}"/>'
        '<line class="base" x1="0" x2="{w}" y1="{base}" y2="{base}"/>'
        '<text class="axis" x="0" y="{label_y}">{ago}</text>'
        '<text class="axis" x="{w}" y="{label_y}" text-anchor="end">now</text></svg>',
        w=W, h=H, grid=grid, bars=_bars(span, base), base=base, label_y=H - 6,
        ago=f"{window // 60} min ago" if window % 60 == 0 else f"{window} s ago",
        held=_line(span, lambda s: s.held, top), waiting=_line(span, lambda s: s.waiting, top),
        held_area=_area(span, lambda s: s.held, top),
    )
    return join([legend, svg])


def _nice(value: int) -> int:
    for step in (1, 2, 4, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if value <= step:
            return step
    return value


def _x(i: int, n: int) -> float:
    return round(i * W / max(n - 1, 1), 1)


def _y(value: float, top: int) -> float:
    return round(H - PAD - BARS - value * (H - 2 * PAD - BARS) / top, 1)


def _line(span: list[Second | None], get: Callable[[Second], int], top: int) -> str:
    path, pen = [], "M"
    for i, s in enumerate(span):
        if s is None:
            pen = "M"
            continue
        path.append(f"{pen}{_x(i, len(span))},{_y(get(s), top)}")
        pen = "L"
    return " ".join(path)


def _area(span: list[Second | None], get: Callable[[Second], int], top: int) -> str:
    """The filled area under a line: one closed shape per run of seconds with data."""
    shapes, run = [], []
    bottom = _y(0, top)
    for i, s in enumerate([*span, None]):
        if s is not None:
            run.append((_x(i, len(span)), _y(get(s), top)))
        elif run:
            points = " L".join(f"{x},{y}" for x, y in run)
            shapes.append(f"M{run[0][0]},{bottom} L{points} L{run[-1][0]},{bottom} Z")
            run = []
    return " ".join(shapes)


def _bars(span: list[Second | None], base: float) -> Safe:
    most = max([1] + [s.events for s in span if s is not None])
    width = max(W / len(span) - 1, 0.8)
    bars = []
    for i, s in enumerate(span):
        if s is not None and s.events:
            height = round((BARS - 4) * s.events / most, 1)
            bars.append(fmt('<rect class="evbar" x="{x}" y="{y}" width="{w}" height="{h}"/>',
                            x=_x(i, len(span)) - width / 2, y=base + BARS - height,
                            w=round(width, 2), h=height))
    return join(bars)


# --- events --------------------------------------------------------------------------------


def events(hub: Hub) -> Safe:
    rows = [event_row(doc) for doc in reversed(hub.events)]
    empty = Safe('<li class="empty">No events yet: they appear here as they are emitted.</li>')
    return fmt('<ol class="events" id="events-list" data-keep="{keep}">{rows}</ol>',
               keep=KEEP_EVENTS, rows=join(rows) or empty)


def event_row(doc: views.Doc) -> Safe:
    """One event as a list item; the payload is shown as JSON text (escaped)."""
    payload = json.dumps(doc["data"], ensure_ascii=False, separators=(", ", ": "))
    shown = payload if len(payload) <= 160 else payload[:157] + "..."
    return fmt(
        '<li class="ev" data-id="{id}"><time datetime="{iso}">{clock}</time>'
        '<span class="evname {hue}">{name}</span>{source}'
        '<code class="payload" title="{full}">{shown}</code></li>',
        id=doc["id"], iso=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(doc["time"])),
        clock=time.strftime("%H:%M:%S", time.localtime(doc["time"])), hue=_hue(doc["name"]),
        name=doc["name"], source=_agent(doc["source"]),
        full=payload[:2000], shown=shown,
    )


# --- actions -------------------------------------------------------------------------------


def actions(hub: Hub) -> Safe:
    return Safe(
        '<div class="auth" data-auth>'
        '<p class="ro">Read-only. Open the link with the token printed by '
        "<code>accord dashboard</code>, or paste the token:</p>"
        '<form class="token-form" data-token-form><input type="password" name="token" '
        'placeholder="token" autocomplete="off" aria-label="dashboard token">'
        '<button type="submit">Use</button></form>'
        '<p class="rw">Changes allowed with your token. <button type="button" class="link" '
        "data-forget>Forget it</button></p></div>"
        '<form class="action" data-action="emit">'
        "<label>Emit an event to the agents</label>"
        '<input name="name" value="operator.note" aria-label="event name" required>'
        '<textarea name="data" rows="2" aria-label="payload (JSON)">'
        '{"note": "hello from the dashboard"}</textarea>'
        '<button type="submit">Emit</button><output></output></form>'
    )


WORK = frozenset({"work", "store"})

PANELS: tuple[Panel, ...] = (
    Panel("summary", "", summary, frozenset({"locks", "events", "store", "tick"}), "full"),
    Panel("locks", "Locks and semaphores", locks, frozenset({"locks", "store"}), "wide",
          "holder · fencing token · time left · waiters in order"),
    Panel("chart", "Contention", chart, frozenset({"tick"}), "narrow",
          "holders and waiters, per second"),
    Panel("agents", "Agents", work.agents, WORK, "wide",
          "status · what they work on · what they hold · last progress"),
    Panel("approvals", "Waiting for you", work.approvals, WORK, "narrow",
          "approve or deny with the token"),
    Panel("tasks", "Task queue", work.tasks, WORK, "wide", "dead letters first · retry"),
    Panel("contention", "Lock contention", work.contention, WORK, "narrow",
          "time waited per lock"),
    Panel("events", "Live events", events, frozenset(), "wide", "newest first"),
    Panel("board", "Board", work.board, WORK, "narrow", "newest first"),
    Panel("audit", "Audit log", work.audit, WORK, "wide", "newest first, hash-chained"),
    Panel("actions", "Act", actions, frozenset(), "narrow", "every change needs the token"),
)
