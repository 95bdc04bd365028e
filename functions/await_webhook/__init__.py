"""Lambda handler package: await_webhook."""
