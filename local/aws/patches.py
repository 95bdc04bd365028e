"""How the local harness patches moto and undoes it: one `Patches` per shim module.

    _patches = Patches()

    def install() -> None:
        if _patches.applied:
            return
        _patches.apply(Execution, "stop", _stop)

    def _stop(self, ...):
        _patches.original(Execution, "stop")(self, ...)

    def uninstall() -> None:
        _patches.undo()

`original` gives the attribute as it was looked up before the patch (an inherited method too; a classmethod comes
bound). `undo` restores the owner's own namespace as it was (a classmethod stays a classmethod), and deletes again
an attribute the owner did not have of its own (so an inherited one shows through), rather than setting None.
"""

from __future__ import annotations

from typing import Any

_ABSENT = object()


class Patches:
    def __init__(self) -> None:
        # By (id(owner), name), as owners need not be hashable: (owner, the own namespace entry or _ABSENT,
        # getattr(owner, name)), all as they were before the first patch.
        self._originals: dict[tuple[int, str], tuple[Any, Any, Any]] = {}

    @property
    def applied(self) -> bool:
        return bool(self._originals)

    def apply(self, owner: Any, name: str, replacement: Any) -> None:
        """Sets `owner.name`, remembering the first original (patching twice keeps the true original)."""
        self._originals.setdefault((id(owner), name),
                                   (owner, vars(owner).get(name, _ABSENT), getattr(owner, name, None)))
        setattr(owner, name, replacement)

    def original(self, owner: Any, name: str) -> Any:
        """What `owner.name` gave before the patch: call it in place of the patched attribute."""
        return self._originals[(id(owner), name)][2]

    def undo(self) -> None:
        """Restores every original, last patched first. Idempotent."""
        for (_, name), (owner, own, _looked_up) in reversed(list(self._originals.items())):
            if own is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, own)
        self._originals.clear()
