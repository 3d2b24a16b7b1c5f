"""The generated JSON Schemas describe exactly the messages the models read and write."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from framegate.schemas import (
    Alert,
    Check,
    DeadLetter,
    DeadLetterReason,
    Frame,
    Issue,
    Prediction,
    QualityReport,
    RelabelRequest,
)
from framegate.schemas.actions import Action, AuditRecord
from framegate.schemas.jsonschema import MESSAGES, all_schemas
from framegate.schemas.settings import TOPIC_NAMES
from tests.factories import frame_doc

AT = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
ISSUE = Issue(check=Check.DARK, score=0.7, threshold=0.5, severity="warning", detail="dark")


def _examples() -> dict[str, BaseModel]:
    frame = Frame.model_validate(frame_doc())
    prediction = Prediction(frame_id="cam-1:1", camera_id="cam-1", model="m@1", classes={"a": 1.0})
    return {
        "frames": frame,
        "predictions": prediction,
        "quality": QualityReport(
            frame_id="cam-1:1",
            camera_id="cam-1",
            captured_at=AT,
            processed_at=AT,
            width=640,
            height=480,
            metrics={"brightness": 0.4},
            issues=[ISSUE],
        ),
        "relabel": RelabelRequest(
            request_id="r-1",
            frame_id="cam-1:1",
            camera_id="cam-1",
            captured_at=AT,
            image=frame.image,
            reasons=[ISSUE],
            priority=0.7,
            prediction=prediction,
        ),
        "alerts": Alert(
            alert_id="a-1",
            kind="drift",
            camera_id=None,
            metric="brightness",
            detector="adwin",
            at=AT,
        ),
        "deadletter": DeadLetter(
            source_topic="framegate.frames",
            partition=0,
            offset=7,
            key="cam-1",
            stage="parse",
            reason=DeadLetterReason.INVALID_JSON,
            error="not JSON",
            payload_size=3,
            payload_base64="e30=",
            truncated=False,
            at=AT,
        ),
        "control": Action(
            action_id="x-1",
            kind="mute",
            camera_id="cam-1",
            requested_at=AT,
            check="frozen",
            duration_s=600,
        ),
        "audit": AuditRecord(
            action_id="x-1",
            kind="mute",
            camera_id="cam-1",
            actor="ops",
            requested_at=AT,
            applied_at=AT,
            worker="w-1",
            outcome="applied",
            check="frozen",
            muted_until=AT,
        ),
    }


def _enum_values(schema: dict[str, Any], name: str) -> list[str]:
    return schema["$defs"][name]["enum"]


def _types(subschema: dict[str, Any]) -> set[str]:
    found = {subschema["type"]} if "type" in subschema else set()
    for option in subschema.get("anyOf", []) + subschema.get("oneOf", []):
        found |= _types(option)
    return found


def test_one_schema_per_public_topic() -> None:
    assert set(all_schemas()) == set(MESSAGES) == set(TOPIC_NAMES)


@pytest.mark.parametrize("topic", sorted(MESSAGES), ids=str)
def test_schema_is_a_json_document_named_for_its_topic(topic: str) -> None:
    schema = all_schemas()[topic]
    assert schema["$id"] == f"framegate.{topic}"
    assert schema["type"] == "object"
    assert schema["properties"]["schema_version"]["const"] == 1
    assert json.loads(json.dumps(schema)) == schema


@pytest.mark.parametrize("topic", sorted(MESSAGES), ids=str)
def test_schema_requires_exactly_the_fields_without_defaults(topic: str) -> None:
    model = MESSAGES[topic]
    schema = all_schemas()[topic]
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    assert set(schema.get("required", [])) == required
    assert set(schema["properties"]) == set(model.model_fields)


@pytest.mark.parametrize("topic", sorted(MESSAGES), ids=str)
def test_emitted_messages_use_only_described_fields(topic: str) -> None:
    schema = all_schemas()[topic]
    document = json.loads(_examples()[topic].model_dump_json())
    assert set(schema["required"]) <= set(document) <= set(schema["properties"])
    assert MESSAGES[topic].model_validate(document) == _examples()[topic]  # JSON round trip


def test_closed_vocabularies_are_enums_in_the_schemas() -> None:
    schemas = all_schemas()
    assert _enum_values(schemas["quality"], "Check") == [c.value for c in Check]
    assert _enum_values(schemas["deadletter"], "DeadLetterReason") == [
        r.value for r in DeadLetterReason
    ]
    issue = schemas["quality"]["$defs"]["Issue"]["properties"]
    assert issue["severity"]["enum"] == ["info", "warning", "critical"]
    assert (issue["score"]["minimum"], issue["score"]["maximum"]) == (0.0, 1.0)
    image = schemas["frames"]["$defs"]["FrameImage"]["properties"]
    assert set(image["encoding"]["enum"]) == {"jpeg", "png", "webp", "bmp", "tiff"}


def test_frame_schema_allows_the_epoch_seconds_the_model_accepts() -> None:
    assert Frame.model_validate(frame_doc(captured_at=1795878000)).captured_at.year == 2026
    captured_at = all_schemas()["frames"]["properties"]["captured_at"]
    assert _types(captured_at) & {"number", "integer"}
