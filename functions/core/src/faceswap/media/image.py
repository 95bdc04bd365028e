"""Read a face image's type and pixel size from its first bytes (PNG IHDR, JPEG SOFn) through ranged reads."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .errors import EMPTY_FILE, IMAGE_CORRUPT, UNSUPPORTED_IMAGE_TYPE, MediaInvalid
from .ranged import HeadCachedReader, RangeReader
from .sniff import describe

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
MAX_SEGMENT_READS = 32  # JPEG segments past the prefetched head before giving up (EXIF/ICC rarely need 2)
# Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0-7: no length field
_FIX_CORRUPT = "Save the photo again as JPEG or PNG and upload the new file."


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "jpeg" or "png"
    width: int
    height: int
    size_bytes: int


def probe_image(reader: RangeReader) -> ImageInfo:
    """Describe the JPEG or PNG image behind `reader`; MediaInvalid for anything else or a damaged header."""
    if reader.size == 0:
        raise MediaInvalid(EMPTY_FILE, "The face image file is empty (0 bytes).",
                           "Upload the photo again; the upload may have been interrupted.")
    source = HeadCachedReader(reader)
    if source.head.startswith(PNG_SIGNATURE):
        width, height = _png_size(source)
        return ImageInfo("png", width, height, reader.size)
    if source.head.startswith(b"\xff\xd8\xff"):
        width, height = _jpeg_size(source)
        return ImageInfo("jpeg", width, height, reader.size)
    kind = describe(source.head)
    raise MediaInvalid(UNSUPPORTED_IMAGE_TYPE,
                       f"The face image is {kind}; YouCam accepts JPEG or PNG images only.",
                       "Save the photo as JPEG or PNG and upload it again.", {"detected": kind})


def _corrupt(message: str) -> MediaInvalid:
    return MediaInvalid(IMAGE_CORRUPT, f"The face image is damaged: {message}.", _FIX_CORRUPT)


def _png_size(source: HeadCachedReader) -> tuple[int, int]:
    header = source.head[8:24]
    if len(header) < 16 or header[4:8] != b"IHDR":
        raise _corrupt("its PNG header (IHDR) is missing")
    width, height = struct.unpack_from(">II", header, 8)
    if not width or not height:
        raise _corrupt(f"its PNG header gives a size of {width}x{height}")
    # A PNG always ends with the same IEND chunk, so one tiny read tells a cut-off upload.
    if source.read(source.size - len(PNG_IEND), len(PNG_IEND)) != PNG_IEND:
        raise _corrupt("the PNG file is incomplete (no end marker)")
    return width, height


def _jpeg_size(source: HeadCachedReader) -> tuple[int, int]:
    """Walk the segments after SOI until a start-of-frame marker; only 4-9 bytes per segment are read."""
    pos = 2
    while source.reads_beyond_head <= MAX_SEGMENT_READS:
        segment = source.read(pos, 4)
        if len(segment) < 4 or segment[0] != 0xFF:
            raise _corrupt(f"no valid JPEG marker at byte {pos}")
        marker = segment[1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
        elif marker in _STANDALONE_MARKERS:
            pos += 2
        elif marker in _SOF_MARKERS:
            return _frame_size(source.read(pos + 5, 4), pos)
        elif marker in (0xD9, 0xDA):  # EOI or start of scan before any frame header
            raise _corrupt("its JPEG data has no frame header")
        else:
            pos += 2 + int.from_bytes(segment[2:4], "big")
    raise _corrupt(f"no JPEG frame header among its first {MAX_SEGMENT_READS} segments")


def _frame_size(size_fields: bytes, pos: int) -> tuple[int, int]:
    if len(size_fields) < 4:
        raise _corrupt(f"the JPEG frame header at byte {pos} is cut off")
    height, width = struct.unpack(">HH", size_fields)
    if not width or not height:
        raise _corrupt(f"its JPEG frame header gives a size of {width}x{height}")
    return width, height
