"""The dashboard as an ASGI app (Starlette): the page, its live stream, actions, metrics.

=============================  =====================================================
``GET /``                      the page, every panel rendered on the server
``GET /api/stream``            server-sent events: ``panels`` (bodies re-rendered),
                               ``rows`` (new events), pushed by the one :class:`Hub`
``GET /api/snapshot``          status, locks and newest events as JSON (the CLI's
                               documents)
``POST /api/actions/<name>``   a change; needs ``Authorization: Bearer <token>``
``GET /metrics``               Prometheus text
``GET /static/...``            the page's one script and style sheet (package data)
=============================  =====================================================

Only the ``Host`` names given are served (127.0.0.1, localhost by default), against
DNS rebinding; every page carries a Content-Security-Policy allowing this origin's
script and style only, so no inline script can run even if markup got through.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import accord
from accord.errors import AccordError
from accord.surfaces import views
from accord.surfaces.clikit import cancel
from accord.surfaces.dashboard import actions, metrics, panels
from accord.surfaces.dashboard.html import Safe, fmt, join
from accord.surfaces.dashboard.hub import KEEP_EVENTS, Hub

STATIC = Path(__file__).parent / "static"
KEEPALIVE = 15.0  # seconds between comments on an idle stream (proxies close silent ones)
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def create_app(
    coord: accord.AsyncCoordinator,
    *,
    token: str,
    refresh: float = 0.5,
    hosts: Iterable[str] = ("127.0.0.1", "localhost", "[::1]", "::1"),
) -> Starlette:
    """The dashboard of ``coord``'s namespace; ``token`` allows changes. The caller owns
    ``coord`` (opens and closes it); the app's lifespan runs the hub."""
    hub = Hub(coord, publish, refresh)
    reg = metrics.registry(hub)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.ensure_future(hub.run())
        try:
            yield
        finally:
            await cancel(task)

    async def page(request: Request) -> Response:
        return HTMLResponse(render_page(hub))

    async def stream(request: Request) -> Response:
        return StreamingResponse(_stream(hub), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def snapshot(request: Request) -> Response:
        doc = {"status": await views.read_status(coord), "locks": hub.locks,
               "events": list(reversed(hub.events))}
        return JSONResponse(doc)

    async def act(request: Request) -> Response:
        try:
            actions.check_token(request.headers.get("authorization"), token)
            action = actions.ACTIONS.get(request.path_params["name"])
            if action is None:
                raise actions.Refused(404, f"no action {request.path_params['name']!r}; "
                                           f"there are: {', '.join(sorted(actions.ACTIONS))}")
            args = await _json_body(request)
            return JSONResponse({"ok": True, **await action.run(coord, args)})
        except actions.Refused as exc:
            return JSONResponse({"ok": False, "error": str(exc)}, status_code=exc.status)
        except (AccordError, TypeError, ValueError) as exc:
            return JSONResponse({"ok": False, "error": str(exc)}, status_code=400)

    async def scrape(request: Request) -> Response:
        return Response(metrics.render(reg), media_type=metrics.CONTENT_TYPE)

    routes = [
        Route("/", page),
        Route("/api/stream", stream),
        Route("/api/snapshot", snapshot),
        Route("/api/actions/{name}", act, methods=["POST"]),
        Route("/metrics", scrape),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [Middleware(_SecurityHeaders),
                  Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts))]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.hub = hub
    return app


async def _json_body(request: Request) -> dict[str, object]:
    body = await request.body()
    if len(body) > actions.MAX_BODY:
        raise actions.Refused(413, f"a request body is at most {actions.MAX_BODY} bytes")
    try:
        args = json.loads(body or b"{}")
    except ValueError as exc:
        raise actions.Refused(400, f"the body is not JSON: {exc}") from None
    if not isinstance(args, dict):
        raise actions.Refused(400, "the body is a JSON object of the action's arguments")
    return args


class _SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- the live stream -----------------------------------------------------------------------


def sse(kind: str, data: object) -> str:
    """One server-sent event (JSON has no newline, so one ``data:`` line)."""
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def publish(hub: Hub, topics: set[str], new: list[views.Doc]) -> list[str]:
    """What changed, rendered once for every browser."""
    messages = []
    changed = [p for p in panels.PANELS if p.topics & topics]
    if changed:
        messages.append(sse("panels", _bodies(hub, changed)))
    if new:
        rows = [panels.event_row(doc) for doc in reversed(new[-KEEP_EVENTS:])]
        messages.append(sse("rows", {"target": "events-list", "html": rows,
                                     "keep": KEEP_EVENTS}))
    return messages


def _bodies(hub: Hub, which: Iterable[panels.Panel]) -> dict[str, object]:
    return {"panels": {p.id: p.render(hub) for p in which}, "error": hub.error}


async def _stream(hub: Hub) -> AsyncIterator[str]:
    with hub.listen() as queue:
        yield "retry: 1000\n\n"
        yield sse("panels", _bodies(hub, panels.PANELS))  # the whole page, on each (re)connect
        while True:
            try:
                message = await asyncio.wait_for(queue.get(), KEEPALIVE)
            except asyncio.TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if message is None:
                return
            yield message


# --- the page ------------------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>accord · {namespace}</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/dashboard.css">
<script src="/static/dashboard.js" defer></script>
</head><body>
<header class="top">
  <div class="brand"><img src="/static/favicon.svg" alt="" width="22" height="22">accord</div>
  <div class="where"><span class="ns">{namespace}</span><span class="url mono">{store}</span>
  </div>
  <div class="badges"><span class="badge mode" data-mode>read-only</span>
  <span class="badge live" data-live>connecting</span></div>
</header>
<div class="banner" data-banner{hidden}>{error}</div>
<main class="grid">{panels}</main>
<footer>accord {version} · agent <span class="mono">{agent}</span> · locks listed every
{refresh} s, events pushed by the store · <a href="/metrics">/metrics</a> ·
<a href="/api/snapshot">/api/snapshot</a></footer>
</body></html>
"""


def render_page(hub: Hub) -> str:
    sections = [
        fmt('<section class="panel size-{size}" id="panel-{id}">{head}'
            '<div class="body" data-panel="{id}">{body}</div></section>',
            size=p.size, id=p.id, body=p.render(hub),
            head=fmt('<header><h2>{title}</h2><span class="note">{note}</span></header>',
                     title=p.title, note=p.note) if p.title else Safe(""))
        for p in panels.PANELS
    ]
    return fmt(PAGE, namespace=hub.coord.namespace, store=hub.coord.url,
               panels=join(sections), version=accord.__version__, agent=hub.coord.agent,
               refresh=f"{hub.refresh:g}", error=hub.error or "",
               hidden=Safe("" if hub.error else " hidden"))
