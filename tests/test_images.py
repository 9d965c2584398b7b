"""Image sizes read from file headers, for the width and height of embedded images."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from factbook.images import image_size


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


JPEG = (
    b"\xff\xd8"
    + b"\xff\xe0"
    + struct.pack(">H", 16)
    + b"JFIF\x00"
    + b"\x00" * 9
    + (b"\xff\xc0" + struct.pack(">HBHH", 17, 8, 480, 640) + b"\x03" + b"\x00" * 9)
)


@pytest.mark.parametrize(
    ("data", "size"),
    [
        (_png(640, 480), (640, 480)),
        (b"GIF89a" + struct.pack("<HH", 32, 16) + b"\x00" * 8, (32, 16)),
        (JPEG, (640, 480)),
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="120px" height="80">', (120, 80)),
        (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 12">', (24, 12)),
        (
            b"RIFF\x00\x00\x00\x00WEBPVP8X"
            + b"\x00" * 8
            + (99).to_bytes(3, "little")
            + (49).to_bytes(3, "little"),
            (100, 50),
        ),
        (b"not an image", None),
        (b"\x89PNG\r\n\x1a\n", None),
    ],
)
def test_image_size(tmp_path: Path, data: bytes, size: tuple[int, int] | None) -> None:
    path = tmp_path / "image"
    path.write_bytes(data)
    assert image_size(path) == size


def test_a_missing_file_has_no_size(tmp_path: Path) -> None:
    assert image_size(tmp_path / "absent.png") is None
