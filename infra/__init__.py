"""CDK app: the face-swap pipeline as one reusable construct."""
