"""JSON Schema documents of every message, as shipped in ``schemas/json/``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from framegate.schemas.actions import Action, AuditRecord
from framegate.schemas.alerts import Alert
from framegate.schemas.deadletter import DeadLetter
from framegate.schemas.frames import Frame
from framegate.schemas.predictions import Prediction
from framegate.schemas.reports import QualityReport, RelabelRequest

MESSAGES: dict[str, type[BaseModel]] = {
    "frames": Frame,
    "predictions": Prediction,
    "quality": QualityReport,
    "relabel": RelabelRequest,
    "alerts": Alert,
    "deadletter": DeadLetter,
    "control": Action,
    "audit": AuditRecord,
}


def all_schemas() -> dict[str, dict[str, Any]]:
    """Topic name -> JSON Schema of its messages."""
    return {
        name: {"$id": f"framegate.{name}", **model.model_json_schema()}
        for name, model in MESSAGES.items()
    }
