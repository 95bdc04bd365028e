"""Face detection before any vendor unit is spent: OpenCV's Haar frontal-face cascade on a few sampled video frames
and on the face photo. The only package that imports OpenCV; it ships in the detector's own Lambda asset."""

from face_detection.check import FaceCheckResult, check_faces
from face_detection.haar import HaarFaceDetector

__all__ = ["FaceCheckResult", "HaarFaceDetector", "check_faces"]
