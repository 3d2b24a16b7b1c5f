"""A simulated camera fleet on real images, with faults switched on and off, for the demo.

Each camera watches one real scene (the photos shipped with scikit-image and scikit-learn,
or OpenCV's ``vtest.avi`` street footage when Debian's ``opencv-doc`` is installed) with
sensor noise and flicker, so consecutive frames differ the way a fixed camera's do. The
first camera has no faulty frame but a slow dusk: no frame is bad, the scene drifts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from framegate.streams.media import video_frames

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
SIZE = (640, 480)

Fault = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _dark(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return (img.astype(np.float32) * 0.12).astype(np.uint8)


def _blur(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return cv2.GaussianBlur(img, (0, 0), 6)


def _noise(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noisy = img.astype(np.float32) + rng.normal(0, 40, img.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _obstructed(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = img.copy()
    h, w = out.shape[:2]
    out[: int(h * 0.7), : int(w * 0.6)] = (30, 28, 25)
    return out


def _bright(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.clip(img.astype(np.float32) * 2.6 + 60, 0, 255).astype(np.uint8)


FAULTS: dict[str, Fault] = {
    "dark": _dark,
    "blur": _blur,
    "noise": _noise,
    "obstruction": _obstructed,
    "glare": _bright,
}


def scenes() -> list[tuple[str, list[np.ndarray]]]:
    """(name, frames) of real footage: a video when present, and the shipped photos."""
    from skimage import data
    from sklearn.datasets import load_sample_images

    found: list[tuple[str, list[np.ndarray]]] = []
    if VTEST.exists():
        frames = [
            cv2.resize(frame, SIZE, interpolation=cv2.INTER_AREA)
            for frame in video_frames(VTEST, 400)
        ]
        if frames:
            found.append(("vtest.avi", frames))
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        rgb = getattr(data, name)()
        found.append((name, [cv2.resize(rgb[..., ::-1], SIZE, interpolation=cv2.INTER_AREA)]))
    for name, rgb in zip(("china", "flower"), load_sample_images().images, strict=True):
        found.append((name, [cv2.resize(rgb[..., ::-1], SIZE, interpolation=cv2.INTER_AREA)]))
    return found


@dataclass(frozen=True)
class Episode:
    """A fault on one camera from frame ``start`` for ``length`` frames."""

    fault: str
    start: int
    length: int

    def covers(self, index: int) -> bool:
        return self.start <= index < self.start + self.length


@dataclass(frozen=True)
class Dusk:
    """The light falls to ``floor`` of its level, linearly over ``ramp`` frames from ``start``."""

    start: int
    ramp: int
    floor: float = 0.6

    def gain(self, index: int) -> float:
        return 1.0 - (1.0 - self.floor) * min(max((index - self.start) / self.ramp, 0.0), 1.0)


@dataclass
class SimulatedCamera:
    camera_id: str
    scene: str
    frames: list[np.ndarray]
    episodes: list[Episode]
    seed: int
    dusk: Dusk | None = None

    def stream(self) -> Iterator[tuple[int, np.ndarray, str | None]]:
        """(index, BGR frame, fault or None), forever; ``frozen`` repeats one frame's pixels.

        As in a camera: the fault acts on the light (blur, fog, obstruction, exposure), then
        the sensor adds its noise and flicker, so even a blurred or dark frame still changes
        from one frame to the next, and only a frozen camera repeats itself exactly.
        """
        rng = np.random.default_rng(self.seed)
        index = 0
        frozen: np.ndarray | None = None
        while True:
            episode = next((e for e in self.episodes if e.covers(index)), None)
            fault = episode.fault if episode else None
            scene = self._traffic(self.frames[index % len(self.frames)], index)
            if self.dusk is not None and index >= self.dusk.start:
                scene = (scene.astype(np.float32) * self.dusk.gain(index)).astype(np.uint8)
            if fault == "frozen":
                frozen = self._sensor(scene, rng) if frozen is None else frozen
                yield index, frozen, fault
            else:
                frozen = None
                light = FAULTS[fault](scene, rng) if fault else scene
                yield index, self._sensor(light, rng), fault
            index += 1

    def _traffic(self, scene: np.ndarray, index: int) -> np.ndarray:
        """A photo scene gets something moving through it, as a street camera sees; video
        scenes move already."""
        if len(self.frames) > 1:
            return scene
        out = scene.copy()
        h, w = out.shape[:2]
        x = (index * 11 + self.seed * 97) % (w + 80) - 80
        y = h // 2 + int(40 * np.sin(index / 9 + self.seed))
        cv2.rectangle(out, (x, y), (x + 80, y + 36), (40, 40, 180), thickness=-1)
        return out

    @staticmethod
    def _sensor(light: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        gain = 1.0 + rng.normal(0, 0.01)
        noisy = light.astype(np.float32) * gain + rng.normal(0, 2.0, light.shape)
        return np.clip(noisy, 0, 255).astype(np.uint8)


def fleet(cameras: int, *, frames_per_camera: int, seed: int = 7) -> list[SimulatedCamera]:
    """Cameras over the real scenes; all but the first get one fault episode from half-way,
    the first a dusk from two thirds of the way (after a clean first half, the drift
    monitors' warm-up in the demo)."""
    available = scenes()
    kinds = ["dark", "blur", "frozen", "obstruction", "noise", "glare"]
    out: list[SimulatedCamera] = []
    for number in range(cameras):
        name, frames = available[number % len(available)]
        episodes = []
        dusk = None
        if number > 0:
            kind = kinds[(number - 1) % len(kinds)]
            start = max(20, frames_per_camera // 2)
            episodes.append(Episode(kind, start, max(5, frames_per_camera // 6)))
        else:
            dusk = Dusk(frames_per_camera * 2 // 3, max(1, frames_per_camera // 4))
        camera = SimulatedCamera(f"cam-{number + 1}", name, frames, episodes, seed + number, dusk)
        out.append(camera)
    return out
