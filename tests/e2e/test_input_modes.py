"""faceswap:input_mode: `upload` streams both files through the vendor's File API (the default, tested everywhere
else); `url` hands the vendor presigned GET URLs of the objects, which it fetches from S3 itself, so no media byte
passes through the start function. The checks before (headers, claim, admission, credit) are the same."""

from __future__ import annotations

from local.pipeline import LocalPipeline, function_environment
from tests.e2e.guarantees import START, wait_for_job
from tests.media import Media


def test_url_mode_gives_the_vendor_presigned_urls_and_no_media_through_the_function(pipeline: LocalPipeline,
                                                                                   media: Media) -> None:
    with function_environment(pipeline, START, INPUT_MODE="url", FACE_DETECTOR_FUNCTION=""):
        view = wait_for_job(pipeline, pipeline.submit("g-url-mode", media.clip, media.face), timeout=60)

    assert view.execution_status == "SUCCEEDED" and view.output_key is not None
    stats = pipeline.emulator.stats()
    assert stats["registrations_by_name"] == {} and stats["uploads_by_sha256"] == {}  # nothing through the File API
    assert sorted(stats["downloads_by_sha256"].values()) == [1, 1]  # the vendor fetched the video and the face
    assert stats["tasks_created"] == 1


def test_an_expired_url_fails_the_task_with_the_vendors_own_error(pipeline: LocalPipeline, media: Media) -> None:
    # A URL that is expired when the vendor fetches it (S3 answers 403 "Request has expired"); deployments keep them
    # valid for faceswap:input_url_ttl_minutes (60 by default).
    with function_environment(pipeline, START, INPUT_MODE="url", INPUT_URL_TTL_SECONDS="0", FACE_DETECTOR_FUNCTION=""):
        view = wait_for_job(pipeline, pipeline.submit("g-url-expired", media.clip, media.face), timeout=60)

    assert view.error is not None and view.error["vendor_code"] == "error_download_video"
    assert "download" in view.error["message"].lower() or "fetch" in view.error["message"].lower()
    assert pipeline.emulator.stats()["downloads_by_sha256"] == {}
