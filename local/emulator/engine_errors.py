"""Engine error codes a failed task reports in data.error, with the vendor's descriptions."""

from __future__ import annotations

# From the feature's error table and the shared EngineErrorCode enum (youcam-api.md, section 3).
ENGINE_ERRORS: dict[str, str] = {
    "error_download_video": "Download source video error",
    "error_decode_video": "Decode source video error",
    "error_unsupported_video": "Unsupported video format",
    "exceed_max_filesize": "Input file size exceeds the maximum limit",
    "error_nsfw_content_detected": "NSFW content detected in the source file",
    "error_decode_mask": "Decode mask image error",
    "invalid_parameter": "Invalid parameter value",
    "error_exceed_max_image_size": "Input image size exceeds the maximum limit",
    "error_download_image": "Download source image error",
    "error_download_mask": "Download mask image error",
    "error_decode_image": "Decode source image error",
    "error_no_face": "No face detected on source image",
    "error_pose": "Failed to detect pose on source image",
    "error_face_parsing": "Failed to do face segmentation on source image",
    "error_inference": "Inference pipeline error",
    "exceed_nsfw_retry_limits": "Exceed the retry limits to avoid generated NSFW image",
    "error_upload": "Upload result image error",
    "unknown_internal_error": "Others",
}


def describe(code: str) -> str:
    return ENGINE_ERRORS.get(code, "Unknown engine error")


class EngineError(Exception):
    """A task failure the vendor reports as task_status "error" with this engine code."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail or describe(code)}")

    @property
    def message(self) -> str:
        return f"{describe(self.code)}: {self.detail}" if self.detail else describe(self.code)
