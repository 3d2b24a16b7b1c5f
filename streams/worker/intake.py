"""Untrusted bytes in, validated messages out; every failure is one typed ``InvalidMessage``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlparse

from pydantic import BaseModel, ValidationError

from framegate.schemas import SCHEMA_VERSION, DeadLetterReason, FrameImage, InvalidMessage
from framegate.schemas.settings import Settings

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], raw: bytes | None) -> M:
    """Validate raw topic bytes as ``model``.

    Raises
    ------
    InvalidMessage
        ``invalid_json``, ``unsupported_schema_version`` or ``invalid_fields``.
    """
    if not raw:
        raise InvalidMessage(DeadLetterReason.INVALID_JSON, "the message is empty")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidMessage(DeadLetterReason.INVALID_JSON, f"not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidMessage(DeadLetterReason.INVALID_JSON, "the message is not a JSON object")
    version = document.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise InvalidMessage(
            DeadLetterReason.UNSUPPORTED_SCHEMA_VERSION,
            f"schema_version {version!r} is not supported; this worker reads version "
            f"{SCHEMA_VERSION}",
        )
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        raise InvalidMessage(DeadLetterReason.INVALID_FIELDS, problems) from exc


def image_bytes(image: FrameImage, settings: Settings) -> bytes:
    """The frame's encoded image: inline base64, or a ``file://`` URI inside the allowed root.

    Nothing is fetched from the network: a fleet that stores frames elsewhere mounts them
    (or syncs them) under ``FRAMEGATE_FILE_ROOT``.
    """
    if image.data is not None:
        try:
            return image.inline_bytes()
        except ValueError as exc:
            raise InvalidMessage(DeadLetterReason.BAD_BASE64, str(exc)) from exc
    assert image.uri is not None
    path = resolve_uri(image.uri, settings)
    try:
        size = path.stat().st_size
        if size > settings.max_message_bytes:
            raise InvalidMessage(
                DeadLetterReason.URI_UNREADABLE,
                f"{image.uri} is {size} bytes, over the limit of {settings.max_message_bytes}",
            )
        return path.read_bytes()
    except OSError as exc:
        raise InvalidMessage(
            DeadLetterReason.URI_UNREADABLE, f"cannot read {image.uri}: {exc.strerror}"
        ) from exc


def resolve_uri(uri: str, settings: Settings) -> Path:
    """The local path of an allowed URI, or ``uri_not_allowed``."""
    parsed = urlparse(uri)
    if parsed.scheme not in settings.uri_schemes or parsed.scheme != "file":
        raise InvalidMessage(
            DeadLetterReason.URI_NOT_ALLOWED,
            f"scheme {parsed.scheme or '(none)'!r} is not allowed; frames may reference "
            f"file:// inside FRAMEGATE_FILE_ROOT only",
        )
    if parsed.netloc not in ("", "localhost"):
        raise InvalidMessage(
            DeadLetterReason.URI_NOT_ALLOWED, f"file URI names a remote host {parsed.netloc!r}"
        )
    if settings.file_root is None:
        raise InvalidMessage(
            DeadLetterReason.URI_NOT_ALLOWED, "file:// URIs need FRAMEGATE_FILE_ROOT to be set"
        )
    root = settings.file_root.resolve()
    path = Path(unquote(parsed.path)).resolve()
    if not path.is_relative_to(root):
        raise InvalidMessage(
            DeadLetterReason.URI_NOT_ALLOWED, f"{uri} is outside the allowed root {root}"
        )
    return path
