"""The vendor's limits: check_video / check_image verdicts and messages, billing and dst_duration."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from faceswap.media import (
    ERROR_CODES,
    ImageInfo,
    MediaInvalid,
    MediaLimits,
    VideoInfo,
    billable_units,
    check_image,
    check_video,
    dst_duration,
    find_video_problems,
)

LIMITS = MediaLimits()
GOOD = VideoInfo(container="mp4", brand="isom", duration_seconds=12.5, width=1920, height=1080, fps=30.0,
                 video_codec="h264", audio_codec="aac", size_bytes=20_000_000)


def problem(**changes: object) -> MediaInvalid:
    with pytest.raises(MediaInvalid) as caught:
        check_video(dataclasses.replace(GOOD, **changes), LIMITS)  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize("changes", [
    {},
    {"duration_seconds": 30.0},
    {"width": 3840, "height": 2160},
    {"width": 2160, "height": 3840},  # portrait 4K
    {"fps": 30000 / 1001},
    {"fps": 30.02},  # averaged variable frame rate
    {"size_bytes": 100_000_000},
    {"video_codec": "mpeg4", "audio_codec": None},
    {"container": "mov", "audio_codec": "mp3"},
    {"audio_codec": "amr"},
])
def test_accepts_videos_within_the_limits(changes: dict[str, object]) -> None:
    check_video(dataclasses.replace(GOOD, **changes), LIMITS)  # type: ignore[arg-type]


def test_too_long_names_the_length_the_limit_and_the_fix() -> None:
    error = problem(duration_seconds=42.0)
    assert error.code == "video_too_long"
    assert str(error) == "The video is 42.0 s long; YouCam accepts at most 30 s. Trim it to 30 s or less and " \
                         "upload it again."
    assert error.details == {"measured": 42.0, "limit": 30.0}


def test_a_value_just_over_the_limit_is_not_printed_as_the_limit() -> None:
    assert "30.0005 s long" in problem(duration_seconds=30.0005).message
    assert "100.000001 MB" in problem(size_bytes=100_000_001).message


@pytest.mark.parametrize(("changes", "code", "in_message"), [
    ({"size_bytes": 142_300_000}, "video_too_large", "142.3 MB; YouCam accepts at most 100 MB"),
    ({"width": 4096, "height": 2160}, "video_resolution_too_high", "4096x2160; YouCam accepts at most 3840x2160"),
    ({"width": 2160, "height": 4096}, "video_resolution_too_high", "2160x4096"),
    ({"width": 3000, "height": 3000}, "video_resolution_too_high", "3000x3000"),  # short side over 2160
    ({"fps": 59.94}, "video_fps_too_high", "59.94 frames per second; YouCam accepts at most 30"),
    ({"fps": 30.1}, "video_fps_too_high", "30.10 frames per second"),
    ({"video_codec": "hevc"}, "unsupported_codec", "HEVC (H.265); YouCam accepts H.264 (AVC) or MPEG-4 Part 2"),
    ({"video_codec": "vp9"}, "unsupported_codec", "VP9"),
    ({"audio_codec": "opus"}, "unsupported_audio_codec", "Opus; YouCam accepts AAC, AMR, AMR-WB or MP3"),
    ({"container": "3gp"}, "unsupported_container", "3GP file; YouCam accepts MOV or MP4"),
])
def test_rejects_videos_over_a_limit(changes: dict[str, object], code: str, in_message: str) -> None:
    error = problem(**changes)
    assert error.code == code
    assert in_message in error.message
    assert error.what_to_fix.endswith("upload it again.") or error.what_to_fix.endswith("upload the video again.")


def test_hevc_fix_explains_how_to_get_h264_from_a_phone() -> None:
    assert "Most Compatible" in problem(video_codec="hevc").what_to_fix


def test_lists_every_problem_most_fundamental_first() -> None:
    bad = dataclasses.replace(GOOD, video_codec="hevc", duration_seconds=45.0, fps=60.0)
    assert [p.code for p in find_video_problems(bad, LIMITS)] == [
        "unsupported_codec", "video_too_long", "video_fps_too_high"]
    assert find_video_problems(GOOD, LIMITS) == []


def test_limits_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MediaInvalid, match="at most 10 s"):
        check_video(GOOD, MediaLimits(max_video_seconds=10))
    monkeypatch.setenv("MEDIA_MAX_VIDEO_SECONDS", "12")
    monkeypatch.setenv("MEDIA_MAX_IMAGE_BYTES", "5000000")
    from_env = MediaLimits.from_env()
    assert (from_env.max_video_seconds, from_env.max_image_bytes, from_env.max_fps) == (12.0, 5_000_000, 30.0)


@pytest.mark.parametrize(("info", "code", "in_message"), [
    (ImageInfo("jpeg", 800, 600, 10_500_000), "image_too_large", "10.5 MB; YouCam accepts at most 10 MB"),
    (ImageInfo("gif", 800, 600, 1000), "unsupported_image_type", "a GIF image; YouCam accepts JPEG or PNG"),
])
def test_rejects_images_over_a_limit(info: ImageInfo, code: str, in_message: str) -> None:
    with pytest.raises(MediaInvalid) as caught:
        check_image(info, LIMITS)
    assert caught.value.code == code and in_message in caught.value.message


def test_accepts_images_within_the_limits() -> None:
    check_image(ImageInfo("png", 512, 512, 10_000_000), LIMITS)
    check_image(ImageInfo("jpeg", 4000, 3000, 3_000_000), LIMITS)


@pytest.mark.parametrize(("seconds", "units", "dst"), [
    (0.04, 1, 1), (4.9, 1, 5), (5.0, 1, 5), (5.0000000001, 1, 5), (5.01, 2, 6), (12.5, 3, 13), (30.0, 6, 30),
])
def test_billing_units_and_dst_duration_round_up(seconds: float, units: int, dst: int) -> None:
    assert billable_units(seconds) == units
    assert dst_duration(seconds) == dst


def test_billing_needs_a_positive_duration() -> None:
    with pytest.raises(ValueError):
        billable_units(0)


def test_errors_serialise_and_pickle() -> None:
    error = problem(fps=60.0)
    assert error.to_dict() == {"code": "video_fps_too_high", "message": error.message,
                               "what_to_fix": error.what_to_fix, "details": {"measured": 60.0, "limit": 30.0}}
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, str(copy), dict(copy.details)) == (error.code, str(error), dict(error.details))
    assert error.code in ERROR_CODES
    with pytest.raises(ValueError):
        MediaInvalid("not_a_code", "m", "f")
