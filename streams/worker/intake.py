"""Untrusted bytes in, validated messages out; every failure is one typed ``InvalidMessage``.

Limits come before work: the size of the message, then JSON that Python's parser would
accept but a worker must not (``NaN``/``Infinity``, numbers too large for a float or an int
of thousands of digits, lone surrogates, nesting deeper than the limit, strings and lists
longer than the limit), then the message's own fields. Whatever the parser or a validator
raises becomes an ``InvalidMessage`` with a reason an operator can act on; nothing else
leaves :func:`parse`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlparse

from pydantic import BaseModel, ValidationError

from framegate.schemas import SCHEMA_VERSION, DeadLetterReason, FrameImage, InvalidMessage
from framegate.schemas.settings import Settings

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Limits:
    """What one input message may hold (``FRAMEGATE_MAX_*`` settings)."""

    message_bytes: int = 16 * 1024 * 1024
    json_depth: int = 32
    list_items: int = 1000
    string_chars: int = 4096
    image_chars: int = 24 * 1024 * 1024  # base64 of a 16 MiB image; bounded by message_bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            message_bytes=settings.max_message_bytes,
            json_depth=settings.max_json_depth,
            list_items=settings.max_list_items,
            string_chars=settings.max_string_chars,
        )


DEFAULT_LIMITS = Limits()


class _Refused(Exception):
    """Raised from inside ``json.loads`` hooks; carries the dead-letter reason."""

    def __init__(self, reason: DeadLetterReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(
            DeadLetterReason.NON_FINITE_NUMBER, f"the number {text[:40]} is too large for a float"
        )
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 100:
        raise _Refused(
            DeadLetterReason.NUMBER_OUT_OF_RANGE,
            f"an integer of {len(text)} digits; at most 100 are accepted",
        )
    return int(text)


def _no_constants(name: str) -> float:
    raise _Refused(
        DeadLetterReason.NON_FINITE_NUMBER, f"{name} is not a JSON number; send finite numbers"
    )


def load_json(raw: bytes | None, limits: Limits = DEFAULT_LIMITS) -> Any:
    """The JSON document in ``raw``, within ``limits``.

    Raises
    ------
    InvalidMessage
        ``invalid_json``, ``message_too_large``, ``too_deeply_nested``,
        ``non_finite_number``, ``number_out_of_range``, ``invalid_text`` or ``over_limit``.
    """
    if not raw:
        raise InvalidMessage(DeadLetterReason.INVALID_JSON, "the message is empty")
    if len(raw) > limits.message_bytes:
        raise InvalidMessage(
            DeadLetterReason.MESSAGE_TOO_LARGE,
            f"the message is {len(raw)} bytes, over the limit of {limits.message_bytes}",
        )
    try:
        document = json.loads(
            raw,
            parse_float=_finite_float,
            parse_int=_bounded_int,
            parse_constant=_no_constants,
        )
    except _Refused as exc:
        raise InvalidMessage(exc.reason, exc.message) from None
    except RecursionError:
        raise InvalidMessage(
            DeadLetterReason.TOO_DEEPLY_NESTED,
            f"JSON nested too deeply to parse; at most {limits.json_depth} levels are accepted",
        ) from None
    except MemoryError:
        raise InvalidMessage(
            DeadLetterReason.MESSAGE_TOO_LARGE, "the message needs too much memory to parse"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidMessage(DeadLetterReason.INVALID_JSON, f"not JSON: {exc}") from None
    except Exception as exc:  # the parser's own surprises: still this message's fault
        raise InvalidMessage(
            DeadLetterReason.INVALID_JSON, f"not JSON: {type(exc).__name__}: {exc}"
        ) from None
    check_document(document, limits)
    return document


def check_document(document: Any, limits: Limits = DEFAULT_LIMITS) -> None:
    """Depth, list lengths, string lengths and text of a parsed document (no recursion:
    a crafted document cannot exhaust the stack here)."""
    stack: list[tuple[Any, int, str]] = [(document, 1, "")]
    while stack:
        node, depth, path = stack.pop()
        if depth > limits.json_depth:
            raise InvalidMessage(
                DeadLetterReason.TOO_DEEPLY_NESTED,
                f"{path or '<root>'} is nested {depth} levels deep; at most "
                f"{limits.json_depth} are accepted",
            )
        if isinstance(node, dict):
            if len(node) > limits.list_items:
                raise _over(path, f"an object of {len(node)} keys", limits.list_items)
            for key, value in node.items():
                where = f"{path}.{key}" if path else str(key)
                _check_text(key, where, limits.string_chars)
                stack.append((value, depth + 1, where))
        elif isinstance(node, list):
            if len(node) > limits.list_items:
                raise _over(path, f"a list of {len(node)} items", limits.list_items)
            stack.extend((v, depth + 1, f"{path}[{i}]") for i, v in enumerate(node))
        elif isinstance(node, str):
            longest = limits.image_chars if path == "image.data" else limits.string_chars
            _check_text(node, path, longest)


def _over(path: str, what: str, limit: int) -> InvalidMessage:
    return InvalidMessage(
        DeadLetterReason.OVER_LIMIT, f"{path or '<root>'} is {what}; at most {limit} are accepted"
    )


def _check_text(text: str, path: str, longest: int) -> None:
    if len(text) > longest:
        raise InvalidMessage(
            DeadLetterReason.OVER_LIMIT,
            f"{path or '<root>'} is {len(text)} characters long; at most {longest} are accepted",
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidMessage(
            DeadLetterReason.INVALID_TEXT,
            f"{path or '<root>'} holds a lone surrogate (\\ud800-\\udfff): not valid Unicode text",
        ) from None


def parse(model: type[M], raw: bytes | None, limits: Limits = DEFAULT_LIMITS) -> M:
    """Validate raw topic bytes as ``model``.

    Raises
    ------
    InvalidMessage
        Any reason of :func:`load_json`, or ``unsupported_schema_version`` or
        ``invalid_fields``; never anything else.
    """
    document = load_json(raw, limits)
    if not isinstance(document, dict):
        raise InvalidMessage(DeadLetterReason.INVALID_JSON, "the message is not a JSON object")
    version = document.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise InvalidMessage(
            DeadLetterReason.UNSUPPORTED_SCHEMA_VERSION,
            f"schema_version {str(version)[:40]!r} is not supported; this worker reads version "
            f"{SCHEMA_VERSION}",
        )
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors(include_url=False)[:10]
        )
        raise InvalidMessage(DeadLetterReason.INVALID_FIELDS, problems) from None
    except Exception as exc:  # a validator's surprise is still this message's fault
        raise InvalidMessage(
            DeadLetterReason.INVALID_FIELDS, f"{type(exc).__name__}: {exc}"
        ) from None


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
