"""Lambda handler package: webhook."""
