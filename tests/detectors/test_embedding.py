"""The default embedder on real photographs (scikit-image's bundled data)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from framegate.detectors.embedding import Embedder, EmbeddingBatch, lite0_weights_path, top_k

skdata = pytest.importorskip("skimage.data")

# ImageNet class ranges: 281-285 are domestic cats, 967 espresso, 657 missile / 744 projectile.
CATS = range(281, 286)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    torch.set_num_threads(2)
    return Embedder.default(lite0_weights_path().read_bytes(), device="cpu")


@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    rgb = {name: getattr(skdata, name)() for name in ("chelsea", "coffee", "rocket", "astronaut")}
    bgr = {name: cv2.cvtColor(img, cv2.COLOR_RGB2BGR) for name, img in rgb.items()}
    bgr["camera"] = skdata.camera()  # grayscale (H, W)
    return bgr


def test_batch_gives_normalised_embeddings_and_probabilities(embedder, photos):
    out = embedder.embed(list(photos.values()))
    assert isinstance(out, EmbeddingBatch)
    assert out.embeddings.shape == (5, 1280) and out.embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out.embeddings, axis=1), 1.0, atol=1e-5)
    assert out.probabilities.shape == (5, 1000)
    np.testing.assert_allclose(out.probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert embedder.dimension == 1280


def test_reference_classifier_is_sensible_on_real_photos(embedder, photos):
    out = embedder.embed([photos["chelsea"], photos["coffee"], photos["rocket"]])
    idx, _ = top_k(out.probabilities, 3)
    assert idx[0, 0] in CATS
    assert idx[1, 0] == 967  # espresso
    assert {657, 744} & set(idx[2].tolist())  # missile / projectile


def test_deterministic_across_batch_sizes(embedder, photos):
    images = list(photos.values())
    together = embedder.embed(images).embeddings
    alone = np.concatenate([embedder.embed([img]).embeddings for img in images])
    np.testing.assert_allclose(together, alone, atol=1e-4)


def test_near_copies_are_close_and_different_photos_are_not(embedder, photos):
    cat = photos["chelsea"]
    ok, buf = cv2.imencode(".jpg", cat, [cv2.IMWRITE_JPEG_QUALITY, 60])
    assert ok
    e = embedder.embed([cat, cv2.imdecode(buf, cv2.IMREAD_COLOR), photos["coffee"]]).embeddings
    assert e[0] @ e[1] > 0.95
    assert e[0] @ e[2] < 0.5


def test_preprocess_crops_the_centre_as_trained(embedder):
    # A 512x1024 frame: short side to 256 then a 224 centre crop keeps columns 288..736.
    img = np.zeros((512, 1024, 3), np.uint8)
    img[:, :288] = (255, 0, 0)  # blue, BGR: outside the crop
    img[:, 288:736] = (0, 0, 255)  # red inside
    batch = embedder.preprocess([img])
    assert batch.shape == (1, 224, 224, 3) and batch.dtype == torch.uint8
    assert batch[0, :, :, 0].float().mean() > 250  # red channel first: RGB order
    assert batch[0, :, :, 2].float().mean() < 5


def test_empty_batch(embedder):
    assert len(embedder(embedder.preprocess([]))) == 0


@pytest.mark.parametrize("given", ["bytes", "file"], ids=["bytes", "open-file"])
def test_torchscript_model_from_what_the_caller_read(tmp_path, given):
    class Tiny(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.mean(dim=(2, 3))

    path = tmp_path / "tiny.pt"
    torch.jit.script(Tiny()).save(str(path))
    with path.open("rb") as f:
        model = f.read() if given == "bytes" else f
        emb = Embedder.from_torchscript(model, device="cpu", name=path.stem)
    assert emb.name == "tiny"
    out = emb.embed([np.full((40, 60, 3), 200, np.uint8)])
    assert out.embeddings.shape == (1, 3) and out.probabilities is None
    np.testing.assert_allclose(np.linalg.norm(out.embeddings), 1.0, atol=1e-6)


def test_bytes_that_are_no_torchscript_model_are_refused():
    with pytest.raises(RuntimeError):
        Embedder.from_torchscript(b"not a model", device="cpu")
