"""The dashboard's panels on the work: agents, the task queue, approvals, the board, the
audit log and contention metrics (hub topic "work", listed by the hub's work loop).

Every button is a ``form[data-action]`` (see ``dashboard.js``): a POST with the token
to ``/api/actions/<name>``; text written by agents is escaped (:mod:`.html`).
"""

from __future__ import annotations

import json
import time
import zlib

from accord.surfaces import views
from accord.surfaces.dashboard.html import Safe, fmt, join
from accord.surfaces.dashboard.hub import Hub


def _ago(unix: float) -> str:
    seconds = max(0.0, time.time() - unix)
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def button(action: str, label: str, tone: str = "", reason: bool = False,
            **fields: object) -> Safe:
    hidden = join([fmt('<input type="hidden" name="{k}" value="{v}">', k=k, v=v)
                   for k, v in fields.items()])
    why = Safe('<input name="reason" placeholder="reason" aria-label="reason" required>'
               if reason else "")
    return fmt('<form class="action inline" data-action="{action}">{hidden}{why}'
               '<button type="submit" class="{tone}">{label}</button><output></output></form>',
               action=action, hidden=hidden, why=why, tone=tone, label=label)


def _empty(text: str) -> Safe:
    return fmt('<p class="empty">{text}</p>', text=text)


def agent_chip(name: str) -> Safe:
    """An agent's name with a dot of its own colour."""
    return fmt('<span class="agent"><i class="dot {hue}"></i>{name}</span>',
               hue=hue(name), name=name)


def hue(text: str) -> str:
    return f"h{zlib.crc32(text.encode()) % 8}"


_agent = agent_chip


# --- agents --------------------------------------------------------------------------------


def agents(hub: Hub) -> Safe:
    work = hub.work
    halted = work.get("halted")
    banner = (fmt('<div class="halted">Namespace halted: {r} {btn}</div>', r=halted,
                  btn=button("resume", "Resume", "ok"))
              if halted else
              fmt('<div class="halt-row">{btn}</div>',
                  btn=button("halt", "Halt every agent", "danger", reason=True)))
    found = work.get("agents", [])
    if not found:
        return join([banner, _empty("No agent is registered (accord.session(...) registers "
                                    "one).")])
    rows = [
        fmt('<tr class="agent-row status-{status}" data-agent="{name}"><td>{chip}</td>'
            '<td><span class="pill {status}">{status}</span></td><td>{role}</td>'
            '<td>{working}</td><td class="mono">{holds}</td><td>{progress}</td>'
            '<td>{kill}</td></tr>',
            status=a["status"], name=a["name"], chip=_agent(a["name"]), role=a["role"] or "-",
            working=a["working_on"] or a["reason"] or "-",
            holds=", ".join(a["holds"]) or "-", progress=_ago(a["last_progress"]),
            kill=(button("kill", "Kill", "danger", reason=True, agent=a["name"])
                  if a["status"] not in ("killed", "dead", "left") else Safe("")))
        for a in found
    ]
    head = Safe("<thead><tr><th>agent</th><th>status</th><th>role</th><th>working on</th>"
                "<th>holds</th><th>progress</th><th></th></tr></thead>")
    return join([banner, fmt('<table class="agents">{head}<tbody>{rows}</tbody></table>',
                             head=head, rows=join(rows))])


# --- tasks ---------------------------------------------------------------------------------


def tasks(hub: Hub) -> Safe:
    counts = hub.work.get("counts") or {}
    chips = join([fmt('<span class="count {s}"><b>{n}</b> {s}</span>', s=s, n=counts.get(s, 0))
                  for s in views.TASK_STATUSES])
    found = hub.work.get("tasks", [])
    order = {"dead": 0, "failed": 1, "claimed": 2, "ready": 3, "waiting": 4}
    found = sorted(found, key=lambda t: (order.get(t["status"], 9), -t["priority"]))[:30]
    rows = [
        fmt('<tr class="task {status}"><td class="num mono">{id}</td>'
            '<td><span class="pill {status}">{status}</span></td><td>{title}</td>'
            '<td>{who}</td><td class="err">{error}</td><td>{retry}</td></tr>',
            id=t["id"], status=t["status"], title=t["title"],
            who=_agent(t["claimed_by"]) if t["claimed_by"] else "-",
            error=t["error"] or "",
            retry=(button("retry", "Retry", "ok", id=t["id"])
                   if t["status"] in ("dead", "failed") else Safe("")))
        for t in found
    ]
    table = (fmt('<table class="tasks"><tbody>{rows}</tbody></table>', rows=join(rows))
             if rows else _empty("No open task in the default queue."))
    return join([fmt('<div class="counts">{c}</div>', c=chips), table])


# --- approvals -----------------------------------------------------------------------------


def approvals(hub: Hub) -> Safe:
    found = hub.work.get("approvals", [])
    if not found:
        return _empty("Nothing waits for a decision.")
    cards = [
        fmt('<div class="approval" data-approval="{id}"><div class="what">{action}</div>'
            '<div class="meta">{who} · expires in {left} s</div>'
            '<code class="payload">{details}</code><div class="buttons">{ok}{no}</div></div>',
            id=a["id"], action=a["action"], who=_agent(a["requested_by"]),
            left=f"{max(0.0, a['expires_at'] - time.time()):.0f}",
            details=json.dumps(a["details"], ensure_ascii=False)[:300],
            ok=button("approve", "Approve", "ok", id=a["id"]),
            no=button("deny", "Deny", "danger", id=a["id"]))
        for a in found
    ]
    return join(cards)


# --- board ---------------------------------------------------------------------------------


def board(hub: Hub) -> Safe:
    found = hub.work.get("threads", [])
    if not found:
        return _empty("The board is empty.")
    items = [
        fmt('<li class="thread {priority}"><span class="pill {priority}">{priority}</span>'
            '<b>{title}</b> {author}<span class="muted"> · {ago}{to}</span>'
            '<div class="msg">{message}</div></li>',
            priority=t["priority"], title=t["title"], author=_agent(t["author"]),
            ago=_ago(t["created_at"]), to=f" · to {t['to']}" if t["to"] else "",
            message=t["message"][:400])
        for t in found
    ]
    return fmt('<ul class="board">{items}</ul>', items=join(items))


# --- audit ---------------------------------------------------------------------------------


def audit(hub: Hub) -> Safe:
    found = hub.work.get("audit", [])
    if not found:
        return _empty("No audit entries yet.")
    rows = [
        fmt('<li class="ev"><time>{clock}</time><span class="evname {hue}">{kind}</span>{agent}'
            '<code class="payload">{details}</code></li>',
            clock=time.strftime("%H:%M:%S", time.localtime(e["time"])), kind=e["kind"],
            hue=hue(e["kind"]),
            agent=_agent(e["agent"]),
            details=json.dumps(e["details"], ensure_ascii=False)[:200])
        for e in found
    ]
    return fmt('<ol class="events audit">{rows}</ol>', rows=join(rows))


# --- metrics -------------------------------------------------------------------------------


def contention(hub: Hub) -> Safe:
    found = [m for m in hub.work.get("metrics", []) if m["acquisitions"] or m["waits"]]
    if not found:
        return _empty("No lock taken yet.")
    most = max([m["total_wait"] for m in found] + [1e-9])
    rows = [
        fmt('<tr><td class="mono">{name}</td><td class="num">{acq}</td><td class="num">{waits}'
            '</td><td><svg class="bar" viewBox="0 0 100 6" preserveAspectRatio="none">'
            '<rect class="bar-bg" width="100" height="6" rx="3"/>'
            '<rect class="bar-fg wait" width="{pct}" height="6" rx="3"/></svg></td>'
            '<td class="num">{mean} ms</td><td class="num">{lost}</td></tr>',
            name=m["name"], acq=m["acquisitions"], waits=m["waits"],
            pct=f"{100 * m['total_wait'] / most:.1f}", mean=f"{m['mean_wait'] * 1000:.0f}",
            lost=m["lost_leases"] + m["revoked"] + m["timeouts"])
        for m in found
    ]
    head = Safe("<thead><tr><th>lock</th><th class=num>taken</th><th class=num>waits</th>"
                "<th>time waited</th><th class=num>mean</th><th class=num>lost</th></tr>"
                "</thead>")
    return fmt('<table class="metrics">{head}<tbody>{rows}</tbody></table>', head=head,
               rows=join(rows))
