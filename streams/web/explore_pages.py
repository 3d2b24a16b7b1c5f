"""The frame inspector's and the explorer's API (registered by :meth:`.views.Web.pages`).

=======================================  ===================================================
``GET /api/inspect?id=<request_id>``     one flagged frame: issues with their detail, boxes
                                         (annotations and predictions), every metric next to
                                         the camera's usual range, neighbouring flagged frames
``GET /api/frames/<request_id>.jpg``     its image (at most 1280 px), for the latest frames
``GET /api/explore?camera=&check=&``     flagged frames matching every filter, newest first,
``severity=&since=&until=``              and the values each filter can take
``GET /api/distribution?camera=<id>``    labels and predicted classes of its recent frames
=======================================  ===================================================

``since`` and ``until`` are ISO 8601 times of ``captured_at``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from faust.web import Request, Response, View

from framegate.streams.web.explorer import Explorer

NO_STORE = {"Cache-Control": "no-store"}


def _time(text: str | None) -> datetime | None:
    """An ISO 8601 time (naive means UTC); raises ``ValueError`` on anything else."""
    if not text:
        return None
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def explore_pages(explorer: Explorer, protected: type[View]) -> dict[str, type[View]]:
    """The pages, each a subclass of ``protected`` (which checks the token)."""

    class InspectApi(protected):  # type: ignore[misc,valid-type]
        async def get(self, request: Request) -> Response:
            found = explorer.inspect(request.query.get("id", ""))
            if found is None:
                body: dict[str, Any] = {"error": "unknown flagged frame (it may be too old)"}
                return self.json(body, status=404, headers=dict(NO_STORE))
            return self.json(found, headers=dict(NO_STORE))

    class FrameImage(protected):  # type: ignore[misc,valid-type]
        async def get(self, request: Request, request_id: str) -> Response:
            image = explorer.image(request_id)
            if image is None:
                return self.text("no image kept for this frame\n", status=404)
            return self.bytes(
                image, content_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"}
            )

    class ExploreApi(protected):  # type: ignore[misc,valid-type]
        async def get(self, request: Request) -> Response:
            query = request.query
            try:
                since, until = _time(query.get("since")), _time(query.get("until"))
            except ValueError:
                body = {"error": "since and until must be ISO 8601 times"}
                return self.json(body, status=400, headers=dict(NO_STORE))
            frames = explorer.search(
                camera=query.get("camera") or None,
                check=query.get("check") or None,
                severity=query.get("severity") or None,
                since=since,
                until=until,
            )
            body = {"frames": frames, "facets": explorer.facets()}
            return self.json(body, headers=dict(NO_STORE))

    class DistributionApi(protected):  # type: ignore[misc,valid-type]
        async def get(self, request: Request) -> Response:
            found = explorer.distribution(request.query.get("camera", ""))
            if found is None:
                body = {"error": "unknown camera"}
                return self.json(body, status=404, headers=dict(NO_STORE))
            return self.json(found, headers=dict(NO_STORE))

    return {
        "/api/inspect": InspectApi,
        "/api/frames/{request_id}.jpg": FrameImage,
        "/api/explore": ExploreApi,
        "/api/distribution": DistributionApi,
    }
