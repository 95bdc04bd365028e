"""The emulated engine really swaps faces, and refuses inputs with the vendor's engine error codes."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
import requests

from local import media
from local.emulator import Emulator
from tests.emulator.conftest import Media
from tests.emulator.helpers import VendorClient, find_face, read_video, region_changes


def _run(client: VendorClient, emulator: Emulator, video: Path, image: Path, seconds: int = 1) -> dict[str, object]:
    task_id = client.start(client.upload(video), client.upload(image), seconds)
    emulator.wait_for_task(task_id, timeout=60)
    data: dict[str, object] = client.status(task_id).json()["data"]
    return data


def test_swap_changes_the_face_and_nothing_else(
    client: VendorClient, emulator: Emulator, media_files: Media, tmp_path: Path
) -> None:
    started = time.monotonic()
    data = _run(client, emulator, media_files.face_video, media_files.reference_jpg, seconds=3)
    elapsed = time.monotonic() - started
    assert data["task_status"] == "success", data
    download = requests.get(data["results"]["url"], timeout=10)  # type: ignore[index]
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "video/mp4"
    assert int(download.headers["Content-Length"]) == len(download.content)
    result = tmp_path / "result.mp4"
    result.write_bytes(download.content)

    source_meta, source = read_video(media_files.face_video)
    result_meta, swapped = read_video(result)
    assert result_meta["codec"] == "h264" and result_meta["pix_fmt"].startswith("yuv420p")
    assert result_meta["size"] == source_meta["size"] and result_meta["fps"] == source_meta["fps"]
    assert len(swapped) == len(source) == 75
    for index in range(0, 75, 7):
        face = find_face(source[index])
        assert face is not None, f"frame {index}: the test video lost its face"
        inner, far = region_changes(source[index], swapped[index], face)
        assert inner > 25, f"frame {index}: face barely changed ({inner:.1f})"
        assert far < 3.0, f"frame {index}: background changed ({far:.1f})"  # re-encoding alone gives ~1.7
    assert elapsed < 10, f"a 3 s clip took {elapsed:.1f} s"


def test_png_reference_works(client: VendorClient, emulator: Emulator, media_files: Media) -> None:
    data = _run(client, emulator, media_files.short_face_video, media_files.reference_png)
    assert data["task_status"] == "success"


def test_large_input_is_scaled_to_1280_and_audio_is_kept(
    client: VendorClient, emulator: Emulator, media_files: Media, tmp_path: Path
) -> None:
    video = media.make_video(tmp_path / "fullhd.mp4", seconds=0.6, fps=10, size=(1920, 1080), audio=True)
    task_id = client.start(client.upload(video), client.upload(media_files.reference_jpg), 1)
    assert emulator.wait_for_task(task_id, timeout=60) == "success"
    result = Path(emulator.result_file(task_id))
    meta, frames = read_video(result)
    assert meta["size"] == (1280, 720)
    assert meta.get("audio_codec") == "aac"
    assert find_face(frames[0]) is not None


@pytest.mark.parametrize("use_no_face_image", [False, True], ids=["video-without-face", "image-without-face"])
def test_no_face_is_error_no_face(
    client: VendorClient, emulator: Emulator, media_files: Media, use_no_face_image: bool
) -> None:
    video = media_files.short_face_video if use_no_face_image else media_files.no_face_video
    image = media_files.no_face_image if use_no_face_image else media_files.reference_jpg
    data = _run(client, emulator, video, image)
    assert (data["task_status"], data["error"]) == ("error", "error_no_face")
    assert "results" not in data


def _garbage(path: Path) -> Path:
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    return path


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda d, m: _garbage(d / "garbage.mp4"), "error_decode_video"),
        (lambda d, m: media.make_truncated_video(media.make_video(d / "v.mp4", 0.4, size=(160, 96),
                                                                  moov_at_end=True), d / "cut.mp4"),
         "error_decode_video"),
        (lambda d, m: media.make_video(d / "v.mkv", 0.4, size=(160, 96)), "error_unsupported_video"),
        (lambda d, m: media.make_video(d / "fast.mp4", 0.5, fps=60, size=(160, 96)), "error_unsupported_video"),
        (lambda d, m: media.make_video(d / "long.mp4", 31, fps=2, size=(96, 64)), "exceed_max_filesize"),
    ],
    ids=["garbage", "truncated-moov-at-end", "matroska", "60fps", "31-seconds"],
)
def test_bad_videos_fail_with_vendor_codes(
    client: VendorClient, emulator: Emulator, media_files: Media, tmp_path: Path, make: object, code: str
) -> None:
    video = make(tmp_path, media_files)  # type: ignore[operator]
    data = _run(client, emulator, video, media_files.reference_jpg)
    assert (data["task_status"], data["error"]) == ("error", code)
    assert data["error_message"]


def test_undecodable_image_is_error_decode_image(
    client: VendorClient, emulator: Emulator, media_files: Media, tmp_path: Path
) -> None:
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 10)
    data = _run(client, emulator, media_files.short_face_video, fake)
    assert (data["task_status"], data["error"]) == ("error", "error_decode_image")


def test_url_inputs_are_downloaded(
    client: VendorClient, emulator: Emulator, media_files: Media, file_server: tuple[str, Path]
) -> None:
    base, folder = file_server
    (folder / "v.mp4").write_bytes(media_files.short_face_video.read_bytes())
    (folder / "r.jpg").write_bytes(media_files.reference_jpg.read_bytes())
    created = client.create_task(src_file_url=f"{base}/v.mp4", ref_file_url=f"{base}/r.jpg", dst_duration=1)
    task_id = created.json()["data"]["task_id"]
    assert emulator.wait_for_task(task_id, timeout=30) == "success"
    fetched = {hashlib.sha256(f.read_bytes()).hexdigest(): 1 for f in (folder / "v.mp4", folder / "r.jpg")}
    assert emulator.stats()["downloads_by_sha256"] == fetched


@pytest.mark.parametrize(
    ("video_name", "image_name", "code"),
    [
        ("missing.mp4", "r.jpg", "error_download_video"),
        ("v.mp4", "missing.jpg", "error_download_image"),
        ("v.mp4", "huge.jpg", "error_exceed_max_image_size"),
    ],
)
def test_url_input_failures(
    client: VendorClient, emulator: Emulator, media_files: Media, file_server: tuple[str, Path],
    video_name: str, image_name: str, code: str,
) -> None:
    base, folder = file_server
    (folder / "v.mp4").write_bytes(media_files.short_face_video.read_bytes())
    (folder / "r.jpg").write_bytes(media_files.reference_jpg.read_bytes())
    media.make_sparse_file(folder / "huge.jpg", 10 * 1024 * 1024 + 1, head=b"\xff\xd8\xff")
    created = client.create_task(src_file_url=f"{base}/{video_name}", ref_file_url=f"{base}/{image_name}",
                                 dst_duration=1)
    task_id = created.json()["data"]["task_id"]
    assert emulator.wait_for_task(task_id, timeout=30) == "error"
    assert client.status(task_id).json()["data"]["error"] == code


@pytest.mark.parametrize(
    ("role", "spoil", "outcome"),
    [("src", None, ("success", None)),
     ("src", "expire", ("error", "error_download_video")),
     ("src", "tamper", ("error", "error_download_video")),
     ("ref", "expire", ("error", "error_download_image"))],
)
def test_presigned_url_inputs_are_fetched_like_the_vendor(
    client: VendorClient, emulator: Emulator, media_files: Media, file_server: tuple[str, Path],
    role: str, spoil: str | None, outcome: tuple[str, str | None],
) -> None:
    """A presigned S3-style GET URL (here: a finished task's result URL) works while valid; expired or wrongly
    signed, it answers 403 and the task fails with the vendor's download code for that input."""
    first = client.start(client.upload(media_files.short_face_video), client.upload(media_files.reference_jpg), 1)
    assert emulator.wait_for_task(first, timeout=30) == "success"
    presigned = client.status(first).json()["data"]["results"]["url"]
    if spoil == "expire":
        emulator.advance_clock(emulator.config.result_url_ttl_seconds + 1)
    elif spoil == "tamper":
        presigned = presigned.replace("signature=", "signature=0")
    base, folder = file_server
    (folder / "v.mp4").write_bytes(media_files.short_face_video.read_bytes())
    (folder / "r.jpg").write_bytes(media_files.reference_jpg.read_bytes())
    inputs = ({"src_file_url": presigned, "ref_file_url": f"{base}/r.jpg"} if role == "src"
              else {"src_file_url": f"{base}/v.mp4", "ref_file_url": presigned})
    second = client.create_task(**inputs, dst_duration=1).json()["data"]["task_id"]
    emulator.wait_for_task(second, timeout=30)
    data = client.status(second).json()["data"]
    assert (data["task_status"], data["error"]) == outcome
