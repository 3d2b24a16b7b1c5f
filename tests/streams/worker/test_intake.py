"""Image sources: inline data and file:// URIs confined to the allowed root."""

from __future__ import annotations

import pytest

from framegate.schemas import FrameImage
from framegate.schemas.deadletter import DeadLetterReason
from framegate.schemas.errors import InvalidMessage
from framegate.schemas.settings import Settings
from framegate.streams.worker.intake import image_bytes


@pytest.mark.parametrize(
    ("uri", "root_is_set"),
    [
        ("https://example.com/a.jpg", True),
        ("ftp://host/a.jpg", True),
        ("file://remote-host/a.jpg", True),
        ("file:///etc/passwd", True),
        ("file://{root}/../secret.jpg", True),
        ("file://{root}/a.jpg", False),
    ],
    ids=["https", "ftp", "remote-file-host", "outside-root", "dot-dot-escape", "no-root-set"],
)
def test_uris_outside_the_allow_list_are_refused(tmp_path, uri, root_is_set):
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.jpg").write_bytes(b"x")
    (tmp_path / "secret.jpg").write_bytes(b"x")
    settings = Settings(file_root=root if root_is_set else None)
    with pytest.raises(InvalidMessage) as caught:
        image_bytes(FrameImage(uri=uri.format(root=root)), settings)
    assert caught.value.reason == DeadLetterReason.URI_NOT_ALLOWED


def test_file_uri_inside_the_root_is_read(tmp_path):
    (tmp_path / "a b.jpg").write_bytes(b"pixels")
    settings = Settings(file_root=tmp_path)
    assert image_bytes(FrameImage(uri=f"file://{tmp_path}/a%20b.jpg"), settings) == b"pixels"


def test_missing_file_is_unreadable_not_a_crash(tmp_path):
    settings = Settings(file_root=tmp_path)
    with pytest.raises(InvalidMessage) as caught:
        image_bytes(FrameImage(uri=f"file://{tmp_path}/gone.jpg"), settings)
    assert caught.value.reason == DeadLetterReason.URI_UNREADABLE
