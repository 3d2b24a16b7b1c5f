"""`framegate.control` and `framegate.audit`: operators' actions and the record of each.

An action is sent (by the dashboard or ``framegate rebaseline``) to ``framegate.control``,
keyed by ``camera_id``: it shares the partition of the camera's frames, so the worker that
owns the camera applies it, in order with the frames. That worker then publishes one
:class:`AuditRecord` on ``framegate.audit`` (keyed by ``camera_id``) saying what it did;
every dashboard reads the audit topic, so all show the same acknowledgements and mutes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from framegate.schemas.base import Identifier, Message, Timestamp

ActionKind = Literal["acknowledge", "mute", "unmute", "rebaseline"]
MAX_MUTE_S = 7 * 24 * 3600.0


class Action(Message):
    """One operator's action on one camera.

    ``acknowledge`` needs ``alert_id``; ``mute``/``unmute`` need ``check`` (a check name, or
    ``camera_offline``/``camera_lagging``) and ``mute`` a ``duration_s``; ``rebaseline``
    restarts the camera's references (``metric`` restricts it to one drift statistic).
    ``action_id`` is chosen by the sender: a redelivered action has the same one.
    """

    action_id: Identifier
    kind: ActionKind
    camera_id: Identifier
    actor: str = Field(default="operator", max_length=256)
    requested_at: Timestamp
    alert_id: Identifier | None = None
    check: Identifier | None = None
    metric: Identifier | None = None
    duration_s: float | None = Field(default=None, gt=0, le=MAX_MUTE_S)
    note: str = Field(default="", max_length=1024)


class AuditRecord(Message):
    """What the worker owning the camera did with an :class:`Action`."""

    action_id: Identifier
    kind: ActionKind
    camera_id: Identifier
    actor: str
    requested_at: Timestamp
    applied_at: Timestamp
    worker: str
    outcome: Literal["applied", "rejected"]
    detail: str = ""
    alert_id: str | None = None
    check: str | None = None
    metric: str | None = None
    muted_until: Timestamp | None = None
    note: str = ""
