"""The width and height of an image file, read from its header (PNG, GIF, JPEG, WebP, SVG)."""

from __future__ import annotations

import re
import struct
from pathlib import Path

_SVG_SIZE = re.compile(rb"<svg\b[^>]*>", re.S)
_NUMBER = rb"\s*=\s*[\"']\s*([0-9.]+)\s*(?:px)?\s*[\"']"


def image_size(path: Path) -> tuple[int, int] | None:
    """Return (width, height) in pixels, or None if the file is not an image this can read."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
            if head.startswith(b"\xff\xd8"):  # a JPEG's size may follow a long EXIF block
                head += handle.read(262144)
    except OSError:
        return None
    try:
        return _size(head)
    except (struct.error, ValueError, IndexError):
        return None


def _size(head: bytes) -> tuple[int, int] | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        return struct.unpack(">II", head[16:24])
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return struct.unpack("<HH", head[6:10])
    if head.startswith(b"\xff\xd8"):
        return _jpeg(head)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return _webp(head)
    found = _SVG_SIZE.search(head)
    if found is not None:
        return _svg(found.group(0))
    return None


def _jpeg(head: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(head):
        if head[i] != 0xFF:
            return None
        marker = head[i + 1]
        length = struct.unpack(">H", head[i + 2 : i + 4])[0]
        # Start-of-frame markers (not DHT, JPG or DAC) carry the height, then the width.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", head[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def _webp(head: bytes) -> tuple[int, int] | None:
    kind = head[12:16]
    if kind == b"VP8 ":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L":
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X":
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    return None


def _svg(tag: bytes) -> tuple[int, int] | None:
    width = re.search(rb"\swidth" + _NUMBER, tag)
    height = re.search(rb"\sheight" + _NUMBER, tag)
    if width and height:
        return round(float(width.group(1))), round(float(height.group(1)))
    box = re.search(rb"viewBox\s*=\s*[\"']\s*[-0-9.]+[\s,]+[-0-9.]+[\s,]+([0-9.]+)[\s,]+([0-9.]+)", tag)
    if box:
        return round(float(box.group(1))), round(float(box.group(2)))
    return None
