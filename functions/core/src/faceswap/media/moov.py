"""What an MP4/MOV index (the `moov` box, held in memory) says about the movie and each of its tracks.

Only the fields the vendor's limits need are read: timescales and durations (mvhd, mdhd, mehd), the track
kind (hdlr), size and rotation (tkhd), the first sample entry (stsd), frame timing (stts) and where the
media data lies (stco/co64, to spot a file cut short).
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from .boxes import Box, children, corrupt, find_child, parse_header


class Track:
    """What the moov says about one trak (plain class: cheaper to import than a dataclass)."""

    def __init__(self) -> None:
        self.track_id = 0
        self.handler = ""
        self.enabled = True
        self.timescale = 0
        self.duration = 0
        self.fourcc = ""
        self.entry = b""  # first sample entry, header included
        self.width = 0
        self.height = 0
        self.rotation = 0
        self.sample_count = 0
        self.total_delta = 0
        self.max_chunk_offset = 0


class Movie:
    def __init__(self) -> None:
        self.timescale = 0
        self.duration = 0
        self.fragmented = False
        self.fragment_duration = 0
        self.default_sample_durations: dict[int, int] = {}
        self.tracks: list[Track] = []


def parse_movie(data: bytes) -> Movie:
    movie = Movie()
    moov = parse_header(data, 0, 0, len(data))
    for box in children(data, moov.payload_start, moov.end):
        if box.type == "mvhd":
            movie.timescale, movie.duration = _timescale_and_duration(data, box)
        elif box.type == "trak":
            movie.tracks.append(_parse_track(data, box))
        elif box.type == "mvex":
            movie.fragmented = True
            _parse_mvex(data, box, movie)
    return movie


def _timescale_and_duration(data: bytes, box: Box) -> tuple[int, int]:
    """mvhd and mdhd share this layout; an all-ones duration means "unknown"."""
    pos = box.payload_start
    if data[pos] == 1:
        timescale, duration = struct.unpack_from(">IQ", data, pos + 20)
        return timescale, 0 if duration == 0xFFFFFFFFFFFFFFFF else duration
    timescale, duration = struct.unpack_from(">II", data, pos + 12)
    return timescale, 0 if duration == 0xFFFFFFFF else duration


def _parse_mvex(data: bytes, mvex: Box, movie: Movie) -> None:
    for box in children(data, mvex.payload_start, mvex.end):
        pos = box.payload_start
        if box.type == "mehd":
            (movie.fragment_duration,) = struct.unpack_from(">Q" if data[pos] == 1 else ">I", data, pos + 4)
        elif box.type == "trex":
            track_id, _, default_duration = struct.unpack_from(">III", data, pos + 4)
            movie.default_sample_durations[track_id] = default_duration


def _parse_track(data: bytes, trak: Box) -> Track:
    track = Track()
    tkhd = find_child(data, trak.payload_start, trak.end, "tkhd")
    if tkhd is not None:
        _parse_tkhd(data, tkhd, track)
    mdia = find_child(data, trak.payload_start, trak.end, "mdia")
    if mdia is None:
        return track
    for box in children(data, mdia.payload_start, mdia.end):
        if box.type == "hdlr":
            track.handler = data[box.payload_start + 8:box.payload_start + 12].decode("latin-1")
        elif box.type == "mdhd":
            track.timescale, track.duration = _timescale_and_duration(data, box)
    stbl = find_child(data, mdia.payload_start, mdia.end, "minf/stbl")
    if stbl is not None:
        _parse_sample_table(data, stbl, track)
    return track


def _parse_tkhd(data: bytes, tkhd: Box, track: Track) -> None:
    pos = tkhd.payload_start
    version, flags = data[pos], int.from_bytes(data[pos + 1:pos + 4], "big")
    track.enabled = bool(flags & 1)
    (track.track_id,) = struct.unpack_from(">I", data, pos + (20 if version == 1 else 12))
    matrix_at = pos + (52 if version == 1 else 40)
    a, b, _, c, d, *_ = struct.unpack_from(">9i", data, matrix_at)
    track.rotation = _rotation(a, b, c, d)
    width, height = struct.unpack_from(">II", data, matrix_at + 36)
    track.width, track.height = width >> 16, height >> 16  # 16.16 fixed point


def _rotation(a: int, b: int, c: int, d: int) -> int:
    if a == 0 and d == 0 and b != 0:
        return 90 if b > 0 else 270
    return 180 if a < 0 and d < 0 else 0


def _parse_sample_table(data: bytes, stbl: Box, track: Track) -> None:
    for box in children(data, stbl.payload_start, stbl.end):
        if box.type in _SAMPLE_TABLE_PARSERS:
            parse, entry_size = _SAMPLE_TABLE_PARSERS[box.type]
            parse(data, box, track, _entry_count(data, box, entry_size))


def _parse_stsd(data: bytes, box: Box, track: Track, count: int) -> None:
    if count:
        pos = box.payload_start + 8
        entry = parse_header(data, pos, pos, box.end)
        track.fourcc = entry.type
        track.entry = data[entry.start:min(entry.end, box.end)]


def _table(data: bytes, box: Box, count: int, entry_size: int) -> memoryview:
    start = box.payload_start + 8
    return memoryview(data)[start:start + count * entry_size]


def _parse_stts(data: bytes, box: Box, track: Track, count: int) -> None:
    # iter_unpack keeps memory flat: a hostile table of millions of entries must not become a huge tuple.
    for samples, delta in struct.iter_unpack(">II", _table(data, box, count, 8)):
        track.sample_count += samples
        track.total_delta += samples * delta


def _parse_chunk_offsets(data: bytes, box: Box, track: Track, count: int) -> None:
    entry = ">I" if box.type == "stco" else ">Q"  # co64 holds 64-bit offsets
    offsets = struct.iter_unpack(entry, _table(data, box, count, struct.calcsize(entry)))
    track.max_chunk_offset = max((offset for (offset,) in offsets), default=0)


# box type -> (parser, bytes per table entry, used to check the entry count against the box size)
_SAMPLE_TABLE_PARSERS: dict[str, tuple[Callable[[bytes, Box, Track, int], None], int]] = {
    "stsd": (_parse_stsd, 8), "stts": (_parse_stts, 8), "stco": (_parse_chunk_offsets, 4),
    "co64": (_parse_chunk_offsets, 8),
}


def _entry_count(data: bytes, box: Box, entry_size: int) -> int:
    """Entry count of a full box table, refused when it claims more entries than its box can hold."""
    if box.size - box.header_size < 8:
        return 0
    (count,) = struct.unpack_from(">I", data, box.payload_start + 4)
    if count * entry_size > box.end - box.payload_start - 8:
        raise corrupt(f"its '{box.type}' table claims {count} entries")
    return int(count)
