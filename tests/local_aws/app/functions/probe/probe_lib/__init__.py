"""A package shipped inside the bundle (must win over anything outside it)."""

ORIGIN = "bundle"
