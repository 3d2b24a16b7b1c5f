"""Actions posted by a dashboard: CSRF checks, validation, sending; audit state shown."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from framegate.schemas.actions import Action, AuditRecord
from framegate.schemas.settings import Settings
from framegate.streams.web.operations import Operations, action_from_request, same_origin
from framegate.streams.web.views import Web
from framegate.streams.worker.metrics import Metrics
from tests.streams.worker.fakes import RecordingTopic

OK = {"X-Requested-With": "framegate", "Origin": "http://127.0.0.1:6066"}


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        (OK, True),
        ({"X-Requested-With": "framegate"}, True),  # same-origin fetch may omit Origin
        ({**OK, "Sec-Fetch-Site": "same-origin"}, True),
        ({"Origin": "http://127.0.0.1:6066"}, False),  # a plain cross-site form
        ({**OK, "Origin": "http://evil.example"}, False),
        ({**OK, "Origin": "null"}, False),
        ({**OK, "Sec-Fetch-Site": "cross-site"}, False),
        ({"X-Requested-With": "framegate", "Referer": "http://evil.example/x"}, False),
    ],
    ids=["ok", "no-origin", "fetch-site", "no-header", "evil", "null", "cross-site", "referer"],
)
def test_only_the_dashboard_itself_may_post(headers, allowed):
    assert (same_origin(headers, "127.0.0.1:6066") is None) is allowed


def test_an_action_is_built_server_side_and_bad_bodies_say_why():
    action = action_from_request(
        {"kind": "mute", "camera_id": "c", "check": "frozen", "duration_s": 60},
        actor="dashboard@1.2.3.4",
        clock=lambda: 0.0,
    )
    assert isinstance(action, Action) and action.actor == "dashboard@1.2.3.4"
    assert action.requested_at == datetime(1970, 1, 1, tzinfo=UTC)
    assert "unknown fields: actor" in action_from_request(
        {"kind": "mute", "camera_id": "c", "actor": "someone else"}, actor="x"
    )
    assert "kind" in action_from_request({"kind": "delete", "camera_id": "c"}, actor="x")
    assert "duration_s" in action_from_request(
        {"kind": "mute", "camera_id": "c", "duration_s": -5}, actor="x"
    )
    assert action_from_request([1], actor="x") == "the body must be a JSON object"


class FakeRequest:
    def __init__(self, headers, body, host="127.0.0.1:6066") -> None:
        self.headers, self._body, self.host, self.remote = headers, body, host, "10.0.0.9"

    async def json(self):
        if isinstance(self._body, Exception):
            raise self._body
        return self._body


def test_a_posted_action_goes_to_the_control_topic_keyed_by_camera():
    topic = RecordingTopic("framegate.control")
    web = Web(Settings(), Metrics(), actions=topic)
    body = {"kind": "rebaseline", "camera_id": "cam-7", "metric": "brightness"}
    status, answer = asyncio.run(web.submit(FakeRequest(OK, body)))
    assert status == 202 and answer["camera_id"] == "cam-7"
    [(key, value)] = topic.sent
    sent = Action.model_validate_json(value)
    assert key == b"cam-7" and sent.action_id == answer["action_id"]
    assert (sent.kind, sent.metric, sent.actor) == (
        "rebaseline",
        "brightness",
        "dashboard@10.0.0.9",
    )


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({"Origin": "http://127.0.0.1:6066"}, {"kind": "rebaseline", "camera_id": "c"}, 403),
        (OK, ValueError("not json"), 400),
        (OK, {"kind": "rebaseline"}, 400),
    ],
    ids=["csrf", "not-json", "invalid"],
)
def test_a_refused_action_sends_nothing(headers, body, status):
    topic = RecordingTopic("framegate.control")
    web = Web(Settings(), Metrics(), actions=topic)
    got, _ = asyncio.run(web.submit(FakeRequest(headers, body)))
    assert got == status and topic.sent == []


def record(kind: str, **fields) -> AuditRecord:
    return AuditRecord(
        action_id=f"{kind}-1",
        kind=kind,
        camera_id="cam-1",
        actor="ops",
        requested_at=0,
        applied_at=1,
        worker="w",
        outcome=fields.pop("outcome", "applied"),
        **fields,
    )


def test_audit_records_mark_alerts_acknowledged_and_muted_until_the_mute_ends():
    now = [100.0]
    ops = Operations(clock=lambda: now[0])
    alert = {"alert_id": "x", "camera_id": "cam-1", "metric": "frozen"}
    assert ops.mark([alert])[0]["acknowledged"] is False
    ops.add(record("acknowledge", alert_id="x", outcome="rejected"))
    assert ops.mark([alert])[0]["acknowledged"] is False  # a refusal changes nothing
    ops.add(record("acknowledge", alert_id="x"))
    ops.add(record("mute", check="frozen", muted_until=160))
    [marked] = ops.mark([alert])
    assert (marked["acknowledged"], marked["acknowledged_by"], marked["muted"]) == (
        True,
        "ops",
        True,
    )
    assert ops.muted() == [{"camera_id": "cam-1", "check": "frozen", "until": 160.0}]
    now[0] = 161.0
    assert ops.mark([alert])[0]["muted"] is False and ops.muted() == []
    assert [r["kind"] for r in ops.records()] == ["mute", "acknowledge", "acknowledge"]


def test_the_overview_counts_only_unacknowledged_open_alerts():
    web = Web(Settings(), Metrics())
    from framegate.schemas import Alert

    for alert_id in ("a", "b"):
        web.fleet.add_alert(
            Alert(
                alert_id=alert_id,
                kind="camera_health",
                camera_id="cam-1",
                metric="frozen",
                detector="check",
                at=0,
            )
        )
    web.fleet.operations.add(record("acknowledge", alert_id="a"))
    overview = web.overview()
    assert overview["fleet"]["open_alerts"] == 2
    assert overview["fleet"]["unacknowledged_alerts"] == 1
