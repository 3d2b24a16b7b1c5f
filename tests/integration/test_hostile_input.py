"""Hostile and broken input interleaved with valid frames, in the same batches, through a
real broker and a real worker: every valid frame is reported once, every bad message is
dead-lettered once with its reason, and the worker lives on."""

from __future__ import annotations

import json

import pytest

from tests.factories import frame_bytes, frame_doc, jittered, jpeg, photo
from tests.integration.test_gate import BAD_INPUTS

pytestmark = pytest.mark.integration

SMALL = jpeg(photo(size=(160, 120)))


def _spliced(raw_json: bytes) -> bytes:
    """A frame whose metadata value is ``raw_json``, spliced in as raw bytes."""
    document = frame_doc("cam-x", 50, SMALL) | {"metadata": {"x": "MARK"}}
    return json.dumps(document).encode().replace(b'"MARK"', raw_json)


HOSTILE = {
    **{f"classic {reason}": (raw, reason) for reason, raw in BAD_INPUTS.items()},
    "deeply nested": (b"[" * 100_000 + b"]" * 100_000, "too_deeply_nested"),
    "nested past the limit": (_spliced(b"[" * 60 + b"]" * 60), "too_deeply_nested"),
    "NaN": (_spliced(b"NaN"), "non_finite_number"),
    "Infinity": (_spliced(b"-Infinity"), "non_finite_number"),
    "float overflow": (_spliced(b"1e400"), "non_finite_number"),
    "huge integer": (_spliced(b"7" * 6000), "number_out_of_range"),
    "lone surrogate": (_spliced(b'"\\udc00"'), "invalid_text"),
    "not UTF-8": (b'{"frame_id": "\xc3\x28"}', "invalid_json"),
    "long string": (_spliced(b'"' + b"x" * 10_000 + b'"'), "over_limit"),
    "many annotations": (
        json.dumps(frame_doc("cam-x", 51, SMALL, annotations=[{"label": "a"}] * 5000)).encode(),
        "over_limit",
    ),
    "control character id": (
        json.dumps(frame_doc("cam-x", 52, SMALL) | {"camera_id": "cam\u0007x"}).encode(),
        "invalid_fields",
    ),
    "box outside image": (
        frame_bytes("cam-x", 53, SMALL, annotations=[{"label": "p", "box": [0, 0, 999, 999]}]),
        "box_outside_image",
    ),
    "JSON array": (b"[1, 2]", "invalid_json"),
    "null": (b"null", "invalid_json"),
}


def test_hostile_input_costs_only_itself(gate_factory):
    gate = gate_factory(batch_size="64", batch_within_s="0.5", embedder="none")
    valid = [
        (b"cam-ok", frame_bytes("cam-ok", i, jpeg(jittered(photo("coffee", (320, 240)), i))))
        for i in range(len(HOSTILE) + 1)
    ]
    messages = []
    for index, (raw, _) in enumerate(HOSTILE.values()):
        messages += [valid[index], (b"cam-x", raw)]
    messages.append(valid[-1])
    assert len(HOSTILE) >= 20
    gate.start()
    gate.publish("frames", messages)  # one produce: the worker reads them in a few batches
    reports = gate.collect("quality", count=len(valid), timeout=120)
    dead = gate.collect("deadletter", count=len(HOSTILE), timeout=30)
    assert gate.process is not None and gate.process.poll() is None, "the worker died"
    assert sorted(r["frame_id"] for r in reports) == sorted(
        f"cam-ok:{i:06d}" for i in range(len(valid))
    )
    assert len(dead) == len(HOSTILE)
    assert sorted(d["reason"] for d in dead) == sorted(reason for _, reason in HOSTILE.values())
    assert all(d["reason"] != "processing_failed" for d in dead)
