"""Typed client for the YouCam (Perfect Corp) AI Video Face Swap API."""
