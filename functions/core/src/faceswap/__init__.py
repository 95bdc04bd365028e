"""Core of the face-swap pipeline, bundled into every Lambda.

It knows nothing of CDK, moto, the local emulator or tests: handlers in the sibling folders are thin
adapters around it.
"""
