"""Lambda handler package: store_token."""
