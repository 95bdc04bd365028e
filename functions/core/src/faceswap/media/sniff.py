"""Name a file's real type from its first bytes, so a rejection can say what the user actually sent."""

from __future__ import annotations

# (offset, magic, description); checked in order, the first match wins.
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (0, b"GIF87a", "a GIF image"),
    (0, b"GIF89a", "a GIF image"),
    (0, b"BM", "a BMP image"),
    (0, b"II*\x00", "a TIFF image"),
    (0, b"MM\x00*", "a TIFF image"),
    (0, b"\x1aE\xdf\xa3", "a WebM/Matroska video"),
    (0, b"FLV", "an FLV video"),
    (0, b"\x00\x00\x01\xba", "an MPEG program stream"),
    (0, b"0&\xb2u\x8e f\x11", "a Windows Media (ASF/WMV) file"),
    (0, b"%PDF", "a PDF document"),
    (0, b"PK\x03\x04", "a ZIP archive"),
    (0, b"ID3", "an MP3 audio file"),
    (0, b"OggS", "an Ogg file"),
    (4, b"ftypheic", "a HEIC image"),
    (4, b"ftypheix", "a HEIC image"),
    (4, b"ftypmif1", "a HEIF image"),
    (4, b"ftypavif", "an AVIF image"),
    (4, b"ftyp3g", "a 3GPP video"),
    (4, b"ftypM4A ", "an M4A audio file"),
    (4, b"ftypcrx ", "a Canon raw photo"),
)

_RIFF_KINDS = {b"AVI ": "an AVI video", b"WEBP": "a WebP image", b"WAVE": "a WAV audio file"}


def describe(head: bytes) -> str:
    """A short noun phrase such as "an AVI video"; "an unrecognised file" when nothing matches."""
    if head[:4] == b"RIFF":
        return _RIFF_KINDS.get(head[8:12], "a RIFF file")
    for offset, magic, description in _SIGNATURES:
        if head[offset:offset + len(magic)] == magic:
            return description
    if _looks_like_mpeg_ts(head):
        return "an MPEG transport stream"
    if head[:1] == b"\x00" and head[4:8] == b"ftyp":
        return "an ISO media file of another kind"
    return "an unrecognised file"


def _looks_like_mpeg_ts(head: bytes) -> bool:
    packets = len(head) // 188
    return packets >= 2 and all(head[i * 188] == 0x47 for i in range(min(packets, 4)))
