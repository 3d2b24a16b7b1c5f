"""Fuzz the decode path (header check and decoders) with mutated JPEG and PNG bytes.

    python -m bench.fuzz_decode [--count 100000] [--seed 0]

A child process decodes seeded mutations of real images (several JPEG and PNG variants:
baseline, progressive, greyscale, 16-bit, palette, alpha) and reports every outcome: pixels,
a typed refusal (``InvalidMessage``, by reason), or any other exception (a bug: it would be
a dead letter ``processing_failed`` instead of a reason). A native crash kills the child;
the parent then reports the signal and the mutation (seed, index) that caused it, and
carries on from the next one. The mutations are reproducible from (seed, index).
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import time

import cv2
import numpy as np

KINDS = ("flip", "set", "insert", "delete", "truncate", "splice")


def seeds() -> dict[str, bytes]:
    from skimage import data

    rgb = cv2.resize(data.coffee()[..., ::-1], (160, 120), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(rgb, cv2.COLOR_BGR2GRAY)
    alpha = np.dstack([rgb, np.full(gray.shape, 200, np.uint8)])
    deep = (gray.astype(np.uint16) * 257).astype(np.uint16)
    jpg = cv2.IMWRITE_JPEG_QUALITY
    return {
        "jpeg": cv2.imencode(".jpg", rgb, [jpg, 90])[1].tobytes(),
        "jpeg-progressive": cv2.imencode(".jpg", rgb, [jpg, 80, cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[
            1
        ].tobytes(),
        "jpeg-gray": cv2.imencode(".jpg", gray, [jpg, 85])[1].tobytes(),
        "png": cv2.imencode(".png", rgb)[1].tobytes(),
        "png-gray-16bit": cv2.imencode(".png", deep)[1].tobytes(),
        "png-alpha": cv2.imencode(".png", alpha)[1].tobytes(),
    }


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 9))):
        if not out:
            break
        kind = KINDS[int(rng.integers(len(KINDS)))]
        at = int(rng.integers(len(out)))
        if kind == "flip":
            out[at] ^= 1 << int(rng.integers(8))
        elif kind == "set":
            out[at] = int(rng.choice([0, 255, 127, 128, int(rng.integers(256))]))
        elif kind == "insert":
            out[at:at] = rng.bytes(int(rng.integers(1, 32)))
        elif kind == "delete":
            del out[at : at + int(rng.integers(1, 32))]
        elif kind == "truncate":
            del out[at:]
        else:  # a chunk of the file copied elsewhere (repeats markers and chunk headers)
            start = int(rng.integers(len(out)))
            out[at:at] = out[start : start + int(rng.integers(1, 64))]
    return bytes(out)


def child(seed: int, start: int, count: int) -> None:
    from framegate.detectors.decode import decode_image
    from framegate.schemas import InvalidMessage

    images = seeds()
    names = sorted(images)
    for index in range(start, start + count):
        rng = np.random.default_rng([seed, index])
        name = names[index % len(names)]
        data = mutate(images[name], rng)
        try:
            decode_image(data, max_pixels=10**7, long_side=320)
            outcome = "decoded"
        except InvalidMessage as exc:
            outcome = f"refused:{exc.reason}"
        except Exception as exc:
            outcome = f"error:{type(exc).__name__}:{str(exc)[:80]}"
        print(json.dumps([index, name, outcome]), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--child", nargs=2, type=int, metavar=("START", "COUNT"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.child:
        child(args.seed, *args.child)
        return
    started = time.perf_counter()
    outcomes: collections.Counter[str] = collections.Counter()
    crashes: list[tuple[int, str, int]] = []
    errors: dict[str, int] = {}
    done = 0
    while done < args.count:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.fuzz_decode",
                "--seed",
                str(args.seed),
                "--child",
                str(done),
                str(args.count - done),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # libpng and libjpeg complain about every mutation
            text=True,
        )
        assert process.stdout is not None
        last = done - 1
        for line in process.stdout:
            index, name, outcome = json.loads(line)
            last = index
            outcomes[
                outcome.split(":")[0] if outcome.startswith("refused") is False else outcome
            ] += 1
            if outcome.startswith("error"):
                errors.setdefault(outcome, index)
        code = process.wait()
        if code != 0:  # a native crash (or a kill): the next mutation did it
            crashed = last + 1
            crashes.append((crashed, seeds_name(crashed), code))
            last = crashed
        done = last + 1
    elapsed = time.perf_counter() - started
    print(f"decode fuzzing: {done} mutated images (seed {args.seed}) in {elapsed:.0f} s")
    for outcome, n in sorted(outcomes.items(), key=lambda kv: -kv[1]):
        print(f"  {outcome:<40} {n:>8}")
    print(
        f"native crashes: {len(crashes)}"
        + "".join(f"\n  index {i} ({name}): exit {code}" for i, name, code in crashes)
    )
    print(
        f"other exceptions (bugs): {len(errors)} kinds"
        + "".join(f"\n  first at index {i}: {e}" for e, i in errors.items())
    )


def seeds_name(index: int) -> str:
    return sorted(seeds())[index % len(seeds())]


if __name__ == "__main__":
    main()
