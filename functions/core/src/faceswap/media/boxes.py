"""ISO base media file format (MP4/MOV) boxes: headers, children, and a top-level walk over ranged reads.

A box is `size:u32 type:4cc [largesize:u64 if size==1] [usertype:16 if type=='uuid'] payload`, where size 0
means "to the end of the enclosing space". Only headers are read at top level, so a `moov` written after a
large `mdat` (no "faststart") costs one small read per box rather than a download.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from .errors import UNSUPPORTED_CONTAINER, VIDEO_CORRUPT, VIDEO_TRUNCATED, MediaInvalid
from .ranged import HeadCachedReader
from .sniff import describe

MAX_HEADER_READS = 16  # reads past the prefetched head while walking; ordinary files need 1-3
# Files without ftyp are old QuickTime movies, which start with one of these.
QUICKTIME_FIRST_BOXES = frozenset({"moov", "mdat", "wide", "free", "skip", "pnot"})

_FIX_CORRUPT = "Export the video again from your editor or phone and upload the new file."
_FIX_TRUNCATED = "Upload the complete video again; if it was recorded on a phone, export it from the gallery."


class Box:
    """One box's place in the data it was parsed from (plain class: cheaper to import than a dataclass)."""

    __slots__ = ("header_size", "size", "start", "type")

    def __init__(self, box_type: str, start: int, header_size: int, size: int) -> None:
        self.type = box_type
        self.start = start  # offset of the size field
        self.header_size = header_size
        self.size = size  # whole box, header included

    @property
    def payload_start(self) -> int:
        return self.start + self.header_size

    @property
    def end(self) -> int:
        return self.start + self.size

    def __repr__(self) -> str:
        return f"Box({self.type!r}, start={self.start}, size={self.size})"


def corrupt(message: str) -> MediaInvalid:
    return MediaInvalid(VIDEO_CORRUPT, f"The video file is damaged: {message}.", _FIX_CORRUPT)


def truncated(message: str) -> MediaInvalid:
    return MediaInvalid(VIDEO_TRUNCATED, f"The video file is incomplete: {message}.", _FIX_TRUNCATED)


def parse_header(data: bytes, pos: int, box_start: int, space_end: int) -> Box:
    """The box whose header is at data[pos] (file offset box_start), in a space ending at space_end."""
    if len(data) - pos < 8:
        raise truncated(f"a box header at byte {box_start} is cut off")
    size, raw_type = struct.unpack_from(">I4s", data, pos)
    header_size = 8
    if size == 1:
        if len(data) - pos < 16:
            raise truncated(f"a box header at byte {box_start} is cut off")
        (size,) = struct.unpack_from(">Q", data, pos + 8)
        header_size = 16
    elif size == 0:
        size = space_end - box_start
    if raw_type == b"uuid":
        header_size += 16
    if size < header_size:
        raise corrupt(f"the box at byte {box_start} declares an impossible size ({size} bytes)")
    return Box(raw_type.decode("latin-1"), box_start, header_size, size)


def is_box_type(name: str) -> bool:
    """Real four-character codes are printable ASCII (QuickTime adds the copyright sign)."""
    return len(name) == 4 and all(" " <= ch <= "~" or ch == "\xa9" for ch in name)


def children(data: bytes, start: int, end: int) -> Iterator[Box]:
    """The boxes packed in data[start:end]; offsets are positions in `data`."""
    pos = start
    while end - pos >= 8:
        box = parse_header(data, pos, pos, end)
        if box.end > end:
            raise corrupt(f"the '{box.type}' box overruns its parent")
        yield box
        pos = box.end


def find_child(data: bytes, start: int, end: int, path: str) -> Box | None:
    """The first box at a slash-separated path below data[start:end], e.g. "mdia/minf/stbl"."""
    first, _, rest = path.partition("/")
    for box in children(data, start, end):
        if box.type == first:
            return find_child(data, box.payload_start, box.end, rest) if rest else box
    return None


def top_level_boxes(source: HeadCachedReader) -> list[Box]:
    """Every top-level box, checked to lie inside the file; raises if the data is not an MP4/MOV at all."""
    _check_first_box(source.head)
    boxes: list[Box] = []
    pos = 0
    while source.size - pos >= 8:  # a tail shorter than a header is padding, not a box
        box = parse_header(source.read(pos, 16), 0, pos, source.size)
        if not is_box_type(box.type):
            break  # trailing garbage after the real boxes; a missing moov is reported by the caller
        if box.end > source.size:
            missing = box.end - source.size
            raise truncated(f"the '{box.type}' box needs {missing} more bytes than the file has")
        boxes.append(box)
        pos = box.end
        if source.reads_beyond_head >= MAX_HEADER_READS and pos < source.size:
            if any(b.type == "moov" for b in boxes):
                break  # enough to validate; the rest is media data (e.g. a fragmented file's moof/mdat pairs)
            raise corrupt(f"no index ('moov' box) among its first {len(boxes)} boxes")
    return boxes


def _check_first_box(head: bytes) -> None:
    first_type = head[4:8].decode("latin-1")
    if first_type != "ftyp" and first_type not in QUICKTIME_FIRST_BOXES:
        raise not_mp4(head)


def not_mp4(head: bytes) -> MediaInvalid:
    kind = describe(head)
    return MediaInvalid(
        UNSUPPORTED_CONTAINER,
        f"The video file is {kind}, not an MP4 or MOV video.",
        "Convert it to MP4 with H.264 video and upload it again.",
        {"detected": kind},
    )
