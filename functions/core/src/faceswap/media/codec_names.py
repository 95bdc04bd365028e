"""Sample-entry four-character codes to codec names, including the MPEG-4 `esds` object type that tells
AAC from MP3 inside `mp4a` and MPEG-4 Part 2 from MPEG-2/MJPEG inside `mp4v`."""

from __future__ import annotations

import struct

from .boxes import find_child
from .errors import MediaInvalid

VIDEO_FOURCCS = {
    "avc1": "h264", "avc3": "h264", "mp4v": "mpeg4",
    "hvc1": "hevc", "hev1": "hevc", "dvh1": "hevc", "dvhe": "hevc",
    "av01": "av1", "vp09": "vp9", "vp08": "vp8", "s263": "h263", "h263": "h263",
    "jpeg": "mjpeg", "mjpa": "mjpeg", "mjpb": "mjpeg",
    **dict.fromkeys(("apch", "apcn", "apcs", "apco", "ap4h", "ap4x"), "prores"),
    "encv": "encrypted",
}
AUDIO_FOURCCS = {
    "mp4a": "aac", "samr": "amr", "sawb": "amr-wb", ".mp3": "mp3", "ms\x00U": "mp3",
    "ac-3": "ac3", "ec-3": "eac3", "Opus": "opus", "alac": "alac", "fLaC": "flac",
    "lpcm": "pcm", "sowt": "pcm", "twos": "pcm", "in24": "pcm", "in32": "pcm", "fl32": "pcm", "fl64": "pcm",
    "raw ": "pcm", "ulaw": "pcm", "alaw": "pcm", "ima4": "adpcm", "enca": "encrypted",
}
# ISO/IEC 14496-1 objectTypeIndication values carried by mp4v/mp4a sample entries.
_OBJECT_TYPES = {
    0x20: "mpeg4", 0x21: "h264", 0x23: "hevc", 0x6A: "mpeg1", 0x6C: "mjpeg",
    **dict.fromkeys(range(0x60, 0x66), "mpeg2"),
    0x40: "aac", 0x66: "aac", 0x67: "aac", 0x68: "aac", 0x69: "mp3", 0x6B: "mp3",
    0xA5: "ac3", 0xA6: "eac3", 0xAD: "opus", 0xDD: "vorbis",
}
DISPLAY_NAMES = {
    "h264": "H.264 (AVC)", "mpeg4": "MPEG-4 Part 2", "hevc": "HEVC (H.265)", "av1": "AV1", "vp9": "VP9",
    "vp8": "VP8", "h263": "H.263", "mjpeg": "Motion JPEG", "prores": "Apple ProRes", "mpeg2": "MPEG-2",
    "mpeg1": "MPEG-1", "encrypted": "an encrypted (DRM) codec",
    "aac": "AAC", "amr": "AMR", "amr-wb": "AMR-WB", "mp3": "MP3", "ac3": "AC-3 (Dolby Digital)",
    "eac3": "E-AC-3 (Dolby Digital Plus)", "opus": "Opus", "alac": "Apple Lossless", "flac": "FLAC",
    "pcm": "uncompressed PCM", "adpcm": "IMA ADPCM", "vorbis": "Vorbis",
}

_VISUAL_ENTRY_FIXED = 8 + 78  # header + VisualSampleEntry fields before its child boxes
_AUDIO_ENTRY_FIXED = {0: 8 + 28, 1: 8 + 28 + 16, 2: 8 + 28 + 36}  # by QuickTime sound description version


def display_name(codec: str) -> str:
    return DISPLAY_NAMES.get(codec, f"the '{codec}' codec")


def video_codec(fourcc: str, entry: bytes) -> str:
    """Codec name of a visual sample entry (`entry` is the whole entry box, header included)."""
    codec = VIDEO_FOURCCS.get(fourcc, fourcc.strip())
    if fourcc == "mp4v":
        codec = _object_type(entry, _VISUAL_ENTRY_FIXED) or codec
    return codec


def audio_codec(fourcc: str, entry: bytes) -> str:
    codec = AUDIO_FOURCCS.get(fourcc, fourcc.strip())
    if fourcc == "mp4a" and len(entry) >= 18:
        (version,) = struct.unpack_from(">H", entry, 16)
        fixed = _AUDIO_ENTRY_FIXED.get(version)
        codec = (_object_type(entry, fixed) if fixed else None) or codec
    return codec


def _object_type(entry: bytes, children_start: int) -> str | None:
    """The esds objectTypeIndication name, or None when absent or unreadable (the fourcc then decides)."""
    try:
        esds = find_child(entry, children_start, len(entry), "esds")
        if esds is None:  # QuickTime nests it: mp4a/wave/esds
            esds = find_child(entry, children_start, len(entry), "wave/esds")
    except MediaInvalid:  # a malformed extension box is not worth rejecting the file for
        return None
    if esds is None:
        return None
    oti = _decoder_config_object_type(entry, esds.payload_start + 4, esds.end)
    return _OBJECT_TYPES.get(oti) if oti is not None else None


def _descriptor(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, body_start, body_length) of the MPEG-4 descriptor at pos; lengths are 7-bit varints."""
    tag = data[pos]
    length = 0
    pos += 1
    for _ in range(4):
        byte = data[pos]
        pos += 1
        length = (length << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    return tag, pos, length


def _decoder_config_object_type(data: bytes, pos: int, end: int) -> int | None:
    try:
        tag, pos, _ = _descriptor(data, pos)
        if tag != 0x03:  # ES_Descriptor
            return None
        flags = data[pos + 2]
        pos += 3
        pos += 2 if flags & 0x80 else 0  # dependsOn_ES_ID
        pos += 1 + data[pos] if flags & 0x40 else 0  # URL
        pos += 2 if flags & 0x20 else 0  # OCR_ES_Id
        tag, pos, _ = _descriptor(data, pos)
        return data[pos] if tag == 0x04 and pos < end else None  # DecoderConfigDescriptor
    except IndexError:
        return None

