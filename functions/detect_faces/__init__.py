"""Lambda handler package: detect_faces, the face pre-check. Its own Lambda asset (OpenCV and numpy, not the core):
OpenCV's Haar frontal-face cascade on a few sampled video frames and on the face photo, before any unit is spent.

    app.py the handler · request.py its input · download.py the objects from S3 · sampling.py frames of the video
    · haar.py the detector · check.py the answer (read by faceswap.faces in the start function)
"""
