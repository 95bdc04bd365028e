"""Lambda handler package: publish_job_events."""
