"""Lambda handler package: check_status."""
