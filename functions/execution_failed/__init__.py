"""Lambda handler package: execution_failed."""
