"""The operators' view, on the worker's own web server (Faust's, ``FRAMEGATE_WEB_PORT``).

=====================================  ==========================================================
``GET /``                              the dashboard (``streams/dashboard/``: HTML, CSS, JS)
``GET /static/<file>``                 its assets
``GET /metrics``                       Prometheus metrics of this worker (:mod:`streams.metrics`)
``GET /healthz``                       ``{"status": "ok"}``, never behind the token (probes)
``GET /api/fleet``                     overview: cameras, frames/s, issue shares, open alerts
``GET /api/camera?id=<camera_id>``     one camera's charted statistics and alerts
``GET /api/flagged``                   the latest flagged frames, newest first
``GET /api/alerts``                    the latest alerts, newest first
``GET /api/deadletters``               the latest dead-letter records, newest first
``GET /api/thumbnails/<id>.jpg``       a flagged frame's thumbnail (160 px JPEG)
``GET /api/events``                    live feed, server-sent events: ``alert``, ``flagged``,
                                       ``overview`` (every 2 s)
=====================================  ==========================================================

Several workers: every worker's dashboard reads the *output* topics with its own group-less
consumer (:mod:`streams.feed`), so any worker shows the whole fleet, whichever input
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
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from pathlib import Path
from typing import Any

from aiohttp import web as aioweb
from faust.web import Request, Response, View

from streams import metrics
from streams.app import app, settings
from streams.config import on_embedded_broker
from streams.feed import FleetFeed
from streams.fleetview import FleetView

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
# Missing only from a wheel built without the package data: the API still works then.
ASSETS = {
    path.name: path.read_bytes()
    for path in sorted(ASSETS_DIR.glob("*"))
    if path.suffix in CONTENT_TYPES
}
COOKIE = "framegate_token"
OVERVIEW_EVERY_S = 2.0
KEEPALIVE_S = 15.0
NO_STORE = {"Cache-Control": "no-store"}

fleet = FleetView()
feed = FleetFeed(settings, fleet)

if not on_embedded_broker(settings):
    # Tansu's end offsets can be wrong; there the gauge would lie, so it is not exported.
    metrics.REGISTRY.register(
        metrics.LagCollector(
            lambda: app.monitor.tp_read_offsets,
            lambda: app.monitor.tp_end_offsets,
            topics={settings.topic("frames"), settings.topic("predictions")},
        )
    )


@app.task
async def follow_output_topics() -> None:
    """Keeps this worker's fleet view current (see :mod:`streams.feed`)."""
    await feed.run()


@app.on_before_shutdown.connect
async def _end_live_streams(sender: Any, **kwargs: Any) -> None:
    feed.close_subscribers()


# -- access -----------------------------------------------------------------------------


def _token() -> str | None:
    return settings.web_token.get_secret_value() if settings.web_token else None


def _matches(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def authorized(request: Request) -> bool:
    token = _token()
    if token is None:
        return True
    header = request.headers.get("Authorization", "")
    bearer = header[7:].strip() if header[:7].lower() == "bearer " else None
    return _matches(bearer, token) or _matches(request.cookies.get(COOKIE), token)


def _unauthorized() -> Response:
    return aioweb.Response(  # type: ignore[return-value]
        status=401,
        text="framegate: this endpoint needs the token (FRAMEGATE_WEB_TOKEN): "
        "'Authorization: Bearer <token>', or open /?access_token=<token> once in a browser\n",
        headers={"WWW-Authenticate": 'Bearer realm="framegate"', **NO_STORE},
    )


class Protected(View):
    """A view that answers 401 unless the request carries the token (when one is set)."""

    async def dispatch(self, request: Any) -> Any:
        if not authorized(request):
            return _unauthorized()
        return await super().dispatch(request)


# -- pages ------------------------------------------------------------------------------


def _asset(name: str, headers: dict[str, str]) -> Response:
    content_type = CONTENT_TYPES[Path(name).suffix]
    return aioweb.Response(  # type: ignore[return-value]
        body=ASSETS[name],
        content_type=content_type,
        headers=headers,
        charset="utf-8" if content_type.startswith("text/") else None,
    )


@app.page("/")
class Dashboard(View):
    async def get(self, request: Request) -> Response:
        token = _token()
        given = request.query.get("access_token")
        if token is not None and given is not None:
            if not _matches(given, token):
                return _unauthorized()
            response = aioweb.Response(status=303, headers={"Location": "/", **NO_STORE})
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
            return response  # type: ignore[return-value]
        if not authorized(request):
            return _unauthorized()
        if "index.html" not in ASSETS:
            return self.text(f"dashboard assets are not installed ({ASSETS_DIR})\n", status=503)
        return _asset("index.html", NO_STORE)


@app.page("/static/{name}")
class Static(View):
    async def get(self, request: Request, name: str) -> Response:
        if name not in ASSETS:
            return self.text("not found\n", status=404)
        return _asset(name, {"Cache-Control": "no-cache"})


@app.page("/healthz")
class Health(View):
    """Open even with a token: for load balancers and readiness probes."""

    async def get(self, request: Request) -> Response:
        return self.json({"status": "ok"}, headers=dict(NO_STORE))


@app.page("/metrics")
class Metrics(Protected):
    async def get(self, request: Request) -> Response:
        return aioweb.Response(  # type: ignore[return-value]
            body=metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE}
        )


@app.page("/api/fleet")
class FleetApi(Protected):
    async def get(self, request: Request) -> Response:
        return self.json(fleet.overview(), headers=dict(NO_STORE))


@app.page("/api/camera")
class CameraApi(Protected):
    async def get(self, request: Request) -> Response:
        camera = fleet.camera(request.query.get("id", ""))
        if camera is None:
            return self.json({"error": "unknown camera"}, status=404, headers=dict(NO_STORE))
        return self.json(camera, headers=dict(NO_STORE))


@app.page("/api/flagged")
class FlaggedApi(Protected):
    async def get(self, request: Request) -> Response:
        return self.json(fleet.flagged(), headers=dict(NO_STORE))


@app.page("/api/alerts")
class AlertsApi(Protected):
    async def get(self, request: Request) -> Response:
        return self.json(fleet.alerts(), headers=dict(NO_STORE))


@app.page("/api/deadletters")
class DeadLettersApi(Protected):
    async def get(self, request: Request) -> Response:
        return self.json(fleet.dead_letters(), headers=dict(NO_STORE))


@app.page("/api/thumbnails/{request_id}.jpg")
class Thumbnail(Protected):
    async def get(self, request: Request, request_id: str) -> Response:
        image = fleet.thumbnail(request_id)
        if image is None:
            return self.text(
                "no such thumbnail (it may have been replaced by newer ones)\n", status=404
            )
        return self.bytes(
            image, content_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
        )


def sse(kind: str, data: Any) -> bytes:
    """One server-sent event."""
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


@app.page("/api/events")
class Events(Protected):
    """Live feed: each new alert and flagged frame as it is read, the overview every 2 s."""

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
            await response.write(b"retry: 3000\n\n" + sse("overview", fleet.overview()))
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
                    chunk += sse("overview", fleet.overview())
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
