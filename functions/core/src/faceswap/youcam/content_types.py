"""What content type to declare to the File API for an input, decided from its first bytes.

The File API documents its content types only by example ("such as image/jpg and video/mp4": File OpenAPI,
FileV1.1.files[].content_type), and the vendor's own client declares exactly image/jpeg, image/png and video/mp4
and refuses any other file (YouCam-API/skills, scripts/constants.py SUPPORT_FILE_TYPES). The face swap itself
takes "container: mov, mp4" (face-swap-vid OpenAPI, File Specs): the engine reads the container from the bytes,
so a QuickTime file is declared as `mov_content_type`, by default video/mp4, the one documented video type
(YOUCAM_MOV_CONTENT_TYPE=video/quicktime switches back if the vendor ever asks for it). Images are declared from
their magic bytes, never from the file name: a PNG named face.jpg is image/png.
"""

from __future__ import annotations

HEAD_BYTES = 12  # enough for the JPEG/PNG magic and an ISO-BMFF box header with its major brand
JPEG, PNG, MP4, QUICKTIME = "image/jpeg", "image/png", "video/mp4", "video/quicktime"
_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# The QuickTime major brand; classic .mov files may open with a top-level atom other than ftyp.
_QUICKTIME_BRAND = b"qt  "
_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
_BY_SUFFIX = {".mp4": MP4, ".m4v": MP4, ".mov": QUICKTIME, ".qt": QUICKTIME, ".jpg": JPEG, ".jpeg": JPEG,
              ".png": PNG}


def declared_content_type(head: bytes, file_name: str, *, mov_content_type: str, hint: str | None = None) -> str:
    """The content type for the File API: from the bytes when they say, else `hint`, else the file name."""
    sniffed = _sniff(head)
    if sniffed is None:
        suffix = file_name[file_name.rfind("."):].lower() if "." in file_name else ""
        sniffed = (hint or "").split(";")[0].strip().lower() or _BY_SUFFIX.get(suffix, "application/octet-stream")
    return mov_content_type if sniffed == QUICKTIME else sniffed


def _sniff(head: bytes) -> str | None:
    if head.startswith(_JPEG_MAGIC):
        return JPEG
    if head.startswith(_PNG_MAGIC):
        return PNG
    box = head[4:8]
    if box == b"ftyp":
        return QUICKTIME if head[8:12] == _QUICKTIME_BRAND else MP4
    if box in _QUICKTIME_ATOMS:
        return QUICKTIME
    return None
