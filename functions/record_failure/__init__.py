"""Lambda handler package: record_failure."""
