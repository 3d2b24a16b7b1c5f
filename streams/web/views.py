"""The operators' view, on the worker's own web server (Faust's, ``FRAMEGATE_WEB_PORT``).

=====================================  ==========================================================
``GET /``                              the dashboard (``streams/web/dashboard/``: HTML, CSS, JS)
``GET /static/<file>``                 its assets
``GET /metrics``                       Prometheus metrics of this worker (``worker/metrics.py``)
``GET /healthz``                       ``{"status": "ok"}``, never behind the token (probes)
``GET /api/fleet``                     overview: cameras, frames/s, issue shares, open alerts
``GET /api/camera?id=<camera_id>``     one camera's charted statistics and alerts
``GET /api/flagged``                   the latest flagged frames, newest first
``GET /api/alerts``                    the latest alerts, newest first
``GET /api/deadletters``               the latest dead-letter records, newest first
``GET /api/thumbnails/<id>.jpg``       a flagged frame's thumbnail (160 px JPEG)
``GET /api/events``                    live feed, server-sent events: ``alert``, ``flagged``,
                                       ``audit``, ``overview`` (every 2 s)
``GET /api/audit``                     the latest audit records and the mutes in force
``GET /api/inspect``, ``/api/explore``,  the frame inspector and the explorer
``/api/frames/<id>.jpg``,                (:mod:`framegate.streams.web.explore_pages`)
``/api/distribution``
``POST /api/actions``                  an operator's action (acknowledge, mute, unmute,
                                       rebaseline) onto ``framegate.control``
=====================================  ==========================================================

With ``FRAMEGATE_WEBHOOK_URL`` set, every alert the feed reads is also POSTed there
(:mod:`framegate.streams.web.webhook`).

Several workers: every worker's dashboard reads the *output* topics with its own group-less
consumer (:mod:`framegate.streams.web.feed`), so any worker shows the whole fleet, whichever input
partitions it owns; put any one of them (or all, behind a load balancer) in front of the
operators. ``/metrics`` is per worker, as Prometheus expects.

Access: with ``FRAMEGATE_WEB_TOKEN`` set, every endpoint above except ``/static/`` (plain
code, no data) and ``/healthz`` needs the token, including ``/metrics`` (its labels name
cameras; Prometheus sends the token with ``authorization: {credentials: <token>}`` in the
scrape config). The token is
accepted as ``Authorization: Bearer <token>``, as the ``framegate_token`` cookie, or once as
``/?access_token=<token>``, which sets that cookie (HttpOnly, SameSite=Strict) and redirects
to ``/`` so the token leaves the address bar. Faust's own ``/router`` and ``/table`` views are
not covered by the token; keep the port on a private network (it binds 127.0.0.1 by default).

Actions (``POST /api/actions``, a JSON body: ``kind``, ``camera_id`` and what the kind needs)
need the token as every API does, and are refused (403) unless they come from the dashboard
itself: the ``X-Requested-With: framegate`` header, an ``Origin`` (or ``Referer``) naming
this host, no cross-site ``Sec-Fetch-Site`` (:func:`.operations.same_origin`); the cookie is
SameSite=Strict besides. The action is sent keyed by camera, applied by the worker owning
the camera, and its audit record comes back on ``framegate.audit`` (``202`` answers once
the broker has the action).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web as aioweb
from faust.web import Request, Response, View

from framegate.schemas.settings import Settings
from framegate.streams.web.explore_pages import explore_pages
from framegate.streams.web.feed import FleetFeed
from framegate.streams.web.fleetview import FleetView
from framegate.streams.web.operations import action_from_request, same_origin
from framegate.streams.web.webhook import WebhookSender
from framegate.streams.worker.metrics import CONTENT_TYPE, Metrics

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).with_name("dashboard")
CONTENT_TYPES = {
    ".html": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
COOKIE = "framegate_token"
OVERVIEW_EVERY_S = 2.0
KEEPALIVE_S = 15.0
NO_STORE = {"Cache-Control": "no-store"}


def load_assets(folder: Path = ASSETS_DIR) -> dict[str, bytes]:
    """The dashboard's files by name; empty only for a wheel built without package data
    (the API still works then)."""
    return {
        path.name: path.read_bytes()
        for path in sorted(folder.glob("*"))
        if path.suffix in CONTENT_TYPES
    }


# -- access -----------------------------------------------------------------------------


def _matches(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


@dataclass(frozen=True)
class Access:
    """Who may see the dashboard: everyone, or whoever carries ``token``."""

    token: str | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Access:
        return cls(settings.web_token.get_secret_value() if settings.web_token else None)

    def authorized(self, request: Request) -> bool:
        if self.token is None:
            return True
        header = request.headers.get("Authorization", "")
        bearer = header[7:].strip() if header[:7].lower() == "bearer " else None
        return _matches(bearer, self.token) or _matches(request.cookies.get(COOKIE), self.token)

    def matches(self, given: str | None) -> bool:
        return self.token is not None and _matches(given, self.token)


def unauthorized() -> Response:
    return aioweb.Response(  # type: ignore[return-value]
        status=401,
        text="framegate: this endpoint needs the token (FRAMEGATE_WEB_TOKEN): "
        "'Authorization: Bearer <token>', or open /?access_token=<token> once in a browser\n",
        headers={"WWW-Authenticate": 'Bearer realm="framegate"', **NO_STORE},
    )


def sse(kind: str, data: Any) -> bytes:
    """One server-sent event."""
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class Web:
    """One worker's operators' view: the fleet model, its feed, and the pages serving it."""

    def __init__(self, settings: Settings, metrics: Metrics, *, actions: Any = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self.access = Access.from_settings(settings)
        self.fleet = FleetView()
        self.feed = FleetFeed(settings, self.fleet)
        self.assets: dict[str, bytes] = {}
        self.actions = actions  # the control topic (anything with Faust's ``send``)
        self.webhook: WebhookSender | None = None
        if settings.webhook_url:
            self.webhook = WebhookSender(settings.webhook_url, skip=self.acknowledged)
            self.feed.alert_listeners.append(self.webhook.offer)

    def acknowledged(self, alert: dict[str, Any]) -> bool:
        return bool(self.fleet.operations.mark([alert])[0]["acknowledged"])

    def overview(self) -> dict[str, Any]:
        """The fleet overview, its open alerts marked acknowledged or muted."""
        data = self.fleet.overview()
        data["open_alerts"] = self.fleet.operations.mark(data["open_alerts"])
        data["fleet"]["unacknowledged_alerts"] = sum(
            not a["acknowledged"] for a in data["open_alerts"]
        )
        return data

    async def submit(self, request: Any) -> tuple[int, dict[str, Any]]:
        """An action POSTed by a dashboard: checked, then sent to the control topic."""
        refused = same_origin(request.headers, request.host)
        if refused is not None:
            return 403, {"error": refused}
        if self.actions is None:
            return 503, {"error": "this worker takes no actions"}
        try:
            body = await request.json()
        except ValueError:
            return 400, {"error": "the body must be JSON"}
        action = action_from_request(body, actor=f"dashboard@{request.remote}")
        if isinstance(action, str):
            return 400, {"error": action}
        sent = await self.actions.send(
            key=action.camera_id.encode(), value=action.model_dump_json().encode()
        )
        if sent is not None:
            await sent
        return 202, {"action_id": action.action_id, "camera_id": action.camera_id}

    def install(self, app: Any) -> None:
        """Load the assets, register the pages, the feed task and the shutdown hook."""
        self.assets = load_assets()
        app.task(self.follow_output_topics)
        if self.webhook is not None:
            app.task(self.webhook.run)
        app.on_before_shutdown.connect(self.end_live_streams)
        for path, view in self.pages().items():
            app.page(path)(view)

    async def follow_output_topics(self) -> None:
        """Keeps this worker's fleet view current (see :mod:`framegate.streams.web.feed`)."""
        await self.feed.run()

    async def end_live_streams(self, sender: Any, **kwargs: Any) -> None:
        self.feed.close_subscribers()

    def asset(self, name: str, headers: dict[str, str]) -> Response:
        content_type = CONTENT_TYPES[Path(name).suffix]
        return aioweb.Response(  # type: ignore[return-value]
            body=self.assets[name],
            content_type=content_type,
            headers=headers,
            charset="utf-8" if content_type.startswith("text/") else None,
        )

    def pages(self) -> dict[str, type[View]]:  # noqa: C901 - one small class per page
        web, access, fleet, feed = self, self.access, self.fleet, self.feed

        class Protected(View):
            """A view that answers 401 unless the request carries the token (when set)."""

            async def dispatch(self, request: Any) -> Any:
                if not access.authorized(request):
                    return unauthorized()
                return await super().dispatch(request)

        class Dashboard(View):
            async def get(self, request: Request) -> Response:
                given = request.query.get("access_token")
                if access.token is not None and given is not None:
                    if not access.matches(given):
                        return unauthorized()
                    response = aioweb.Response(status=303, headers={"Location": "/", **NO_STORE})
                    response.set_cookie(
                        COOKIE, access.token, httponly=True, samesite="Strict", path="/"
                    )
                    return response  # type: ignore[return-value]
                if not access.authorized(request):
                    return unauthorized()
                if "index.html" not in web.assets:
                    return self.text(
                        f"dashboard assets are not installed ({ASSETS_DIR})\n", status=503
                    )
                return web.asset("index.html", NO_STORE)

        class Static(View):
            async def get(self, request: Request, name: str) -> Response:
                if name not in web.assets:
                    return self.text("not found\n", status=404)
                return web.asset(name, {"Cache-Control": "no-cache"})

        class Health(View):
            """Open even with a token: for load balancers and readiness probes."""

            async def get(self, request: Request) -> Response:
                return self.json({"status": "ok"}, headers=dict(NO_STORE))

        class MetricsPage(Protected):
            async def get(self, request: Request) -> Response:
                return aioweb.Response(  # type: ignore[return-value]
                    body=web.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE}
                )

        class FleetApi(Protected):
            async def get(self, request: Request) -> Response:
                return self.json(web.overview(), headers=dict(NO_STORE))

        class CameraApi(Protected):
            async def get(self, request: Request) -> Response:
                camera = fleet.camera(request.query.get("id", ""))
                if camera is None:
                    return self.json(
                        {"error": "unknown camera"}, status=404, headers=dict(NO_STORE)
                    )
                camera["alerts"] = fleet.operations.mark(camera["alerts"])
                return self.json(camera, headers=dict(NO_STORE))

        class FlaggedApi(Protected):
            async def get(self, request: Request) -> Response:
                return self.json(fleet.flagged(), headers=dict(NO_STORE))

        class AlertsApi(Protected):
            async def get(self, request: Request) -> Response:
                return self.json(fleet.operations.mark(fleet.alerts()), headers=dict(NO_STORE))

        class AuditApi(Protected):
            async def get(self, request: Request) -> Response:
                ops = fleet.operations
                body = {"records": ops.records(), "muted": ops.muted()}
                return self.json(body, headers=dict(NO_STORE))

        class ActionsApi(Protected):
            async def post(self, request: Request) -> Response:
                status, body = await web.submit(request)
                return self.json(body, status=status, headers=dict(NO_STORE))

        class DeadLettersApi(Protected):
            async def get(self, request: Request) -> Response:
                return self.json(fleet.dead_letters(), headers=dict(NO_STORE))

        class Thumbnail(Protected):
            async def get(self, request: Request, request_id: str) -> Response:
                image = fleet.thumbnail(request_id)
                if image is None:
                    return self.text(
                        "no such thumbnail (it may have been replaced by newer ones)\n",
                        status=404,
                    )
                return self.bytes(
                    image,
                    content_type="image/jpeg",
                    headers={"Cache-Control": "private, max-age=3600"},
                )

        class Events(Protected):
            """Live feed: each new alert and flagged frame as it is read, the overview every
            2 s."""

            async def get(self, request: Request) -> Response:
                response = aioweb.StreamResponse(
                    headers={
                        "Content-Type": "text/event-stream",
                        "Cache-Control": "no-cache",
                        "X-Accel-Buffering": "no",
                    }
                )
                await response.prepare(request)  # type: ignore[arg-type]
                queue = feed.subscribe()
                try:
                    await response.write(b"retry: 3000\n\n" + sse("overview", web.overview()))
                    last_overview = last_write = time.monotonic()
                    while True:
                        try:
                            item = await asyncio.wait_for(queue.get(), timeout=OVERVIEW_EVERY_S)
                        except TimeoutError:
                            item = ("tick", {})
                        if item is None:  # the worker is shutting down
                            break
                        now = time.monotonic()
                        chunk = sse(*item) if item[0] != "tick" else b""
                        if now - last_overview >= OVERVIEW_EVERY_S:
                            chunk += sse("overview", web.overview())
                            last_overview = now
                        if not chunk and now - last_write >= KEEPALIVE_S:
                            chunk = b": keep-alive\n\n"
                        if chunk:
                            await response.write(chunk)
                            last_write = now
                except ConnectionResetError:  # the browser went away
                    pass
                finally:
                    feed.unsubscribe(queue)
                return response  # type: ignore[return-value]

        return {
            "/": Dashboard,
            "/static/{name}": Static,
            "/healthz": Health,
            "/metrics": MetricsPage,
            "/api/fleet": FleetApi,
            "/api/camera": CameraApi,
            "/api/flagged": FlaggedApi,
            "/api/alerts": AlertsApi,
            "/api/deadletters": DeadLettersApi,
            "/api/thumbnails/{request_id}.jpg": Thumbnail,
            "/api/events": Events,
            "/api/audit": AuditApi,
            "/api/actions": ActionsApi,
            **explore_pages(fleet.explorer, Protected),
        }
