"""Lambda handler package: finalize."""
