"""The web views' access rule and live-feed framing (the pages run in the browser test)."""

from __future__ import annotations

import json

import pytest
from aiohttp.test_utils import make_mocked_request

from framegate.streams.web import views
from framegate.streams.web.views import Access


@pytest.fixture
def access() -> Access:
    return Access("t0ken")


@pytest.mark.parametrize(
    "headers, allowed",
    [
        ({}, False),
        ({"Authorization": "Bearer t0ken"}, True),
        ({"Authorization": "bearer t0ken"}, True),
        ({"Authorization": "Bearer wrong"}, False),
        ({"Authorization": "Basic t0ken"}, False),
        ({"Cookie": "framegate_token=t0ken"}, True),
        ({"Cookie": "framegate_token=t0ke"}, False),
    ],
    ids=["none", "bearer", "bearer-lowercase", "wrong", "basic", "cookie", "wrong-cookie"],
)
def test_the_token_is_taken_from_a_header_or_the_cookie(access, headers, allowed):
    assert access.authorized(make_mocked_request("GET", "/api/fleet", headers=headers)) is allowed


def test_without_a_token_everything_is_open():
    assert Access(None).authorized(make_mocked_request("GET", "/metrics"))


def test_unauthorized_answers_say_how_to_authenticate():
    response = views.unauthorized()
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_token_comes_from_the_settings_and_is_never_shown():
    from framegate.schemas.settings import Settings

    access = Access.from_settings(Settings(web_token="s3cret"))
    assert access.matches("s3cret") and not access.matches("s3cre")
    assert "s3cret" not in repr(access)


def test_server_sent_events_are_framed():
    chunk = views.sse("alert", {"alert_id": "a", "detail": "line one\nline two"})
    kind, data, end = chunk.decode().split("\n", 2)
    assert kind == "event: alert"
    assert json.loads(data.removeprefix("data: "))["detail"] == "line one\nline two"
    assert end == "\n"


def test_every_asset_of_the_page_is_served():
    assets = views.load_assets()
    assert set(assets) >= {"index.html", "app.js", "style.css"}
    page = assets["index.html"].decode()
    for asset in ("static/app.js", "static/style.css"):
        assert asset in page
    assert "http" not in page.replace("http-equiv", "")  # nothing from a CDN
