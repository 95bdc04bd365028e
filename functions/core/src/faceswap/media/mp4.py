"""Read an MP4/MOV video's duration, size, frame rate and codecs from its header, through ranged reads.

Reads: one block at the start (ftyp, and the moov of a faststart file), one small header read per
top-level box past it, and the moov itself. The media data (mdat) is never fetched. moov.py reads the
index; this module decides what the file is and summarises it as a VideoInfo.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .boxes import Box, corrupt, top_level_boxes, truncated
from .codec_names import audio_codec, video_codec
from .errors import (
    EMPTY_FILE,
    FRAGMENTED_VIDEO,
    NO_VIDEO_TRACK,
    UNSUPPORTED_CONTAINER,
    VIDEO_HEADER_TOO_LARGE,
    MediaInvalid,
)
from .moov import Movie, Track, parse_movie
from .ranged import HeadCachedReader, RangeReader
from .sniff import describe

MAX_MOOV_BYTES = 16 * 1024 * 1024
# ftyp brands of MP4 (ISO 14496-12/14) and QuickTime files; a file is accepted when its major brand or any
# compatible brand is one of these.
ACCEPTED_BRANDS = frozenset({
    "isom", "iso2", "iso3", "iso4", "iso5", "iso6", "iso7", "iso8", "iso9", "mp41", "mp42", "avc1",
    "M4V ", "M4VH", "M4VP", "qt  ", "MSNV", "XAVC", "f4v ",
})
QUICKTIME_BRAND = "qt  "


@dataclass(frozen=True)
class VideoInfo:
    container: str  # "mp4" or "mov"
    brand: str  # ftyp major brand, e.g. "isom", "mp42", "qt"
    duration_seconds: float
    width: int  # as displayed: swapped when the track is rotated by 90 or 270 degrees
    height: int
    fps: float  # average: sample count over the video track's total sample duration
    video_codec: str  # "h264", "mpeg4", "hevc", ... (see codec_names)
    audio_codec: str | None  # "aac", "mp3", "amr", ...; None without an audio track
    size_bytes: int
    rotation: int = 0


def probe_mp4(reader: RangeReader, max_moov_bytes: int = MAX_MOOV_BYTES) -> VideoInfo:
    """Describe the video behind `reader`, or raise MediaInvalid when it is not a readable MP4/MOV."""
    if reader.size == 0:
        raise MediaInvalid(EMPTY_FILE, "The video file is empty (0 bytes).",
                           "Upload the video again; the upload may have been interrupted.")
    source = HeadCachedReader(reader)
    boxes = top_level_boxes(source)
    brand = _brand(source, boxes)
    moov = next((box for box in boxes if box.type == "moov"), None)
    if moov is None:
        raise truncated("it has no index ('moov' box), as when a recording or an upload is cut short")
    try:
        movie = parse_movie(_read_moov(source, moov, max_moov_bytes))
    except (struct.error, IndexError) as exc:  # a field read past the end of a too-short box
        raise corrupt("an index box is shorter than its format requires") from exc
    return _summarise(movie, brand, reader.size)


def _brand(source: HeadCachedReader, boxes: list[Box]) -> str:
    if boxes[0].type != "ftyp":
        return QUICKTIME_BRAND  # pre-2000 QuickTime movies have no ftyp
    ftyp = boxes[0]
    payload = source.read(ftyp.payload_start, min(ftyp.size - ftyp.header_size, 4096))
    if len(payload) < 8:
        raise corrupt("its 'ftyp' box is too short")
    major = payload[:4].decode("latin-1")
    compatible = {payload[i:i + 4].decode("latin-1") for i in range(8, len(payload) - 3, 4)}
    if major not in ACCEPTED_BRANDS and not compatible & ACCEPTED_BRANDS:
        kind = describe(source.head)
        if kind == "an ISO media file of another kind":
            kind = f"an ISO media file of type '{major.strip()}'"
        raise MediaInvalid(UNSUPPORTED_CONTAINER, f"The video file is {kind}, not an MP4 or MOV video.",
                           "Convert it to MP4 with H.264 video and upload it again.",
                           {"detected": kind, "brand": major})
    return major


def _read_moov(source: HeadCachedReader, moov: Box, max_moov_bytes: int) -> bytes:
    if moov.size > max_moov_bytes:
        raise MediaInvalid(
            VIDEO_HEADER_TOO_LARGE,
            f"The video's index ('moov' box) is {moov.size / 1e6:.1f} MB; at most "
            f"{max_moov_bytes / 1e6:.1f} MB can be checked.",
            "Export the video again as a standard MP4 (H.264, 30 s or less) and upload the new file.",
            {"moov_bytes": moov.size, "limit": max_moov_bytes},
        )
    data = source.read(moov.start, moov.size)
    if len(data) < moov.size:
        raise truncated("its index ('moov' box) is cut off")
    return data


def _summarise(movie: Movie, brand: str, size: int) -> VideoInfo:
    video = _main_track(movie.tracks, "vide")
    if video is None or not video.fourcc:
        raise MediaInvalid(NO_VIDEO_TRACK, "The file has no video track (it may be audio only).",
                           "Upload a video file (MP4 or MOV) that has a picture.")
    audio = _main_track(movie.tracks, "soun")
    if any(track.max_chunk_offset >= size for track in movie.tracks):
        raise truncated("its index points past the end of the file")
    width, height = _coded_size(video)
    if video.rotation in (90, 270):
        width, height = height, width
    return VideoInfo(
        container="mov" if brand == QUICKTIME_BRAND else "mp4",
        brand=brand.strip(),
        duration_seconds=_duration_seconds(movie, video),
        width=width,
        height=height,
        fps=_fps(movie, video),
        video_codec=video_codec(video.fourcc, video.entry),
        audio_codec=audio_codec(audio.fourcc, audio.entry) if audio and audio.fourcc else None,
        size_bytes=size,
        rotation=video.rotation,
    )


def _main_track(tracks: list[Track], handler: str) -> Track | None:
    """The first enabled track of this kind (phones add disabled ones, e.g. cover art), else the first."""
    matching = [track for track in tracks if track.handler == handler]
    return next((track for track in matching if track.enabled), matching[0] if matching else None)


def _coded_size(video: Track) -> tuple[int, int]:
    """The sample entry's size (what the decoder sees); tkhd's presentation size when the entry has none."""
    if len(video.entry) >= 36:
        width, height = struct.unpack_from(">HH", video.entry, 32)
        if width and height:
            return width, height
    return video.width, video.height


def _fragmented() -> MediaInvalid:
    return MediaInvalid(
        FRAGMENTED_VIDEO,
        "The video is a fragmented MP4 (as some browsers and streaming tools write) whose header does not "
        "state its length and frame rate.",
        "Export it again as a standard MP4 (for example with ffmpeg -movflags +faststart) and upload it "
        "again.",
    )


def _duration_seconds(movie: Movie, video: Track) -> float:
    if movie.fragmented:  # the moov describes at most the first fragment; only mehd covers the whole
        if movie.timescale and movie.fragment_duration:
            return movie.fragment_duration / movie.timescale
        raise _fragmented()
    if movie.timescale and movie.duration:
        return movie.duration / movie.timescale
    if video.timescale and video.duration:
        return video.duration / video.timescale
    raise corrupt("its header states no duration")


def _fps(movie: Movie, video: Track) -> float:
    if video.timescale and video.sample_count and video.total_delta:
        return video.sample_count * video.timescale / video.total_delta
    default_duration = movie.default_sample_durations.get(video.track_id, 0)
    if movie.fragmented and video.timescale and default_duration:
        return video.timescale / default_duration
    if movie.fragmented:
        raise _fragmented()
    raise corrupt("its video track has no frames")
