"""The public material the held-out evaluation is built from, split into two parts.

Nothing is downloaded: OpenCV's sample videos and stills (Debian ``opencv-doc``), the photos
bundled with scikit-image and scikit-learn, and Fashion-MNIST (Debian
``dataset-fashion-mnist``). The *tuning* part uses scikit-image, scikit-learn,
``vtest.avi`` and Fashion-MNIST's training set; the *held-out* part uses OpenCV's stills,
``Megamind.avi`` and Fashion-MNIST's test set. No source appears in both parts.

Synthetic drawings (logos, shapes, text pages, masks, charts) and pictures that are
deliberately degraded (``text_defocus``, ``licenseplate_motion``) are left out: a snapshot
camera sends photographs. Of each stereo or sequence pair only one picture is kept, so the
clean streams hold no near-duplicates of their own.
"""

from __future__ import annotations

import gzip
import struct
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from framegate.streams.media import video_frames

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
FASHION = Path("/usr/share/datasets/fashion-mnist")

PARTS = ("tuning", "heldout")

_SKIMAGE_COLOUR = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "immunohistochemistry",
    "hubble_deep_field",
    "retina",
    "stereo_motorcycle",
)
_SKIMAGE_GREY = ("camera", "moon", "coins", "clock", "brick", "grass", "gravel", "cell")
_OPENCV_PHOTOS = (
    "aero1.jpg",
    "aloeL.jpg",
    "apple.jpg",
    "baboon.jpg",
    "basketball1.png",
    "board.jpg",
    "box.png",
    "box_in_scene.png",
    "building.jpg",
    "butterfly.jpg",
    "chicky_512.png",
    "ela_original.jpg",
    "fruits.jpg",
    "graf1.png",
    "home.jpg",
    "leuvenA.jpg",
    "left.jpg",
    "messi5.jpg",
    "orange.jpg",
    "rubberwhale1.png",
    "smarties.png",
    "squirrel_cls.jpg",
    "starry_night.jpg",
    "stuff.jpg",
    "sudoku.png",
    "blox.jpg",
    "cards.png",
)


def _bgr(img: np.ndarray) -> np.ndarray:
    if img.dtype == bool:
        img = img.astype(np.uint8) * 255
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    return np.ascontiguousarray(img[..., :3])


@cache
def skimage_photo(name: str) -> np.ndarray:
    """A scikit-image photo (or scikit-learn's ``china``/``flower``) as BGR."""
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_images

        rgb = dict(zip(("china", "flower"), load_sample_images().images, strict=True))[name]
    else:
        from skimage import data

        rgb = getattr(data, name)()
        if isinstance(rgb, tuple):  # stereo_motorcycle: (left, right, disparity)
            rgb = rgb[0]
    return _bgr(rgb)[..., ::-1].copy()


@cache
def opencv_photo(name: str) -> np.ndarray:
    img = cv2.imread(str(OPENCV_DATA / name), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f"{OPENCV_DATA / name} (install Debian's opencv-doc)")
    return img


def photos(part: str) -> list[tuple[str, np.ndarray]]:
    """Every photograph of a part, as (name, BGR)."""
    if part == "tuning":
        names = (*_SKIMAGE_COLOUR, *_SKIMAGE_GREY, "china", "flower")
        return [(n, skimage_photo(n)) for n in names]
    out = []
    for n in _OPENCV_PHOTOS:
        try:
            out.append((n.rsplit(".", 1)[0], opencv_photo(n)))
        except FileNotFoundError:
            continue
    return out


def is_grey(bgr: np.ndarray) -> bool:
    """Whether a picture has no colour at all (its channels are equal, or nearly)."""
    small = cv2.resize(bgr, (64, 48), interpolation=cv2.INTER_AREA).astype(np.int16)
    return bool(np.abs(small[..., 0] - small[..., 1]).max() <= 3) and bool(
        np.abs(small[..., 1] - small[..., 2]).max() <= 3
    )


def video(name: str, limit: int | None = None) -> list[np.ndarray]:
    """Frames of one of OpenCV's sample videos (empty when opencv-doc is not installed)."""
    path = OPENCV_DATA / name
    if not path.exists():
        return []
    return list(video_frames(path, limit))


def _idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    _, count, rows, cols = struct.unpack(">IIII", raw[:16])
    return np.frombuffer(raw, np.uint8, offset=16).reshape(count, rows, cols)


@cache
def fashion(part: str) -> np.ndarray:
    """Fashion-MNIST images (28x28 grey): the training set for tuning, the test set held out."""
    name = "train-images-idx3-ubyte.gz" if part == "tuning" else "t10k-images-idx3-ubyte.gz"
    path = FASHION / name
    if not path.exists():
        return np.zeros((0, 28, 28), np.uint8)
    return _idx(path)


def tiles(img: np.ndarray) -> list[np.ndarray]:
    """The picture and its four quadrants: five different photographs of one scene."""
    h, w = img.shape[:2]
    out = [img]
    for y in (0, h // 2):
        for x in (0, w // 2):
            out.append(img[y : y + h // 2, x : x + w // 2])
    return [t for t in out if min(t.shape[:2]) >= 120]
