"""Lambda handler package: start_job."""
