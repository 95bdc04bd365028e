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

`apply` replaces an attribute that must exist (looked up like `getattr`, so an inherited method counts) and refuses
one that does not: a moto that moved it fails here, naming `module.Class.attr`, instead of somewhere later. `add`
sets an attribute that must not exist yet (a moto that grew it makes the shim obsolete, and says so). Every target
is also listed in `local.aws.moto_pin.TARGETS`, which is checked before anything is patched.

`original` gives the attribute as it was looked up before the patch (an inherited method too; a classmethod comes
bound). `undo` restores the owner's own namespace as it was (a classmethod stays a classmethod), and deletes again
an attribute the owner did not have of its own (so an inherited one shows through), rather than setting None.
"""

from __future__ import annotations

import collections
import importlib.metadata
import threading
import types
from typing import Any

_ABSENT = object()
# Dotted names of everything patched right now, by any `Patches` (what `moto_pin`'s test compares with TARGETS).
_applied: collections.Counter[str] = collections.Counter()
_applied_lock = threading.Lock()


class PatchTargetError(AttributeError):
    """A shim's target is not where the harness expects it (moto moved, renamed or added it)."""


def dotted_name(owner: Any, name: str) -> str:
    """`module.Class.attr` (or `module.attr`) of a patch target, named where the owner is defined."""
    if isinstance(owner, types.ModuleType):
        return f"{owner.__name__}.{name}"
    return f"{getattr(owner, '__module__', '?')}.{getattr(owner, '__qualname__', type(owner).__name__)}.{name}"


def applied_targets() -> set[str]:
    with _applied_lock:
        return {name for name, count in _applied.items() if count > 0}


class Patches:
    def __init__(self) -> None:
        # By (id(owner), name), as owners need not be hashable: (owner, the own namespace entry or _ABSENT,
        # getattr(owner, name)), all as they were before the first patch.
        self._originals: dict[tuple[int, str], tuple[Any, Any, Any]] = {}

    @property
    def applied(self) -> bool:
        return bool(self._originals)

    def apply(self, owner: Any, name: str, replacement: Any) -> None:
        """Sets `owner.name`, which must exist, remembering the first original (patching twice keeps it)."""
        if (id(owner), name) not in self._originals and not hasattr(owner, name):
            raise PatchTargetError(f"{dotted_name(owner, name)} does not exist in moto {_moto_version()}: "
                                   "the shim that patches it needs updating")
        self._set(owner, name, replacement)

    def add(self, owner: Any, name: str, value: Any) -> None:
        """Sets `owner.name`, which must not exist yet (a moto gap the shim fills)."""
        if (id(owner), name) not in self._originals and hasattr(owner, name):
            raise PatchTargetError(f"{dotted_name(owner, name)} exists in moto {_moto_version()}: "
                                   "the shim that adds it is obsolete or needs updating")
        self._set(owner, name, value)

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
            with _applied_lock:
                _applied[dotted_name(owner, name)] -= 1
        self._originals.clear()

    def _set(self, owner: Any, name: str, value: Any) -> None:
        key = (id(owner), name)
        if key not in self._originals:
            self._originals[key] = (owner, vars(owner).get(name, _ABSENT), getattr(owner, name, None))
            with _applied_lock:
                _applied[dotted_name(owner, name)] += 1
        setattr(owner, name, value)


def _moto_version() -> str:
    try:
        return importlib.metadata.version("moto")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"
