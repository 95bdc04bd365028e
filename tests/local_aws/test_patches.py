"""local.aws.patches: what every shim of the harness uses to patch moto and to undo it."""

from __future__ import annotations

import types

from local.aws.patches import Patches


class Base:
    def greet(self) -> str:
        return "base"


class Owner(Base):
    @classmethod
    def make(cls) -> str:
        return cls.__name__

    def own(self) -> str:
        return "own"


def test_originals_are_callable_and_undo_restores_the_namespace_as_it_was() -> None:
    module = types.SimpleNamespace(setting="before")
    patches = Patches()
    patches.apply(Owner, "own", lambda self: "patched " + patches.original(Owner, "own")(self))
    patches.apply(Owner, "greet", lambda self: "patched " + patches.original(Owner, "greet")(self))  # inherited
    patches.apply(Owner, "make", classmethod(lambda cls: "patched " + patches.original(Owner, "make")()))
    patches.apply(module, "setting", "after")
    patches.apply(module, "setting", "again")  # the first original is kept

    assert patches.applied
    assert (Owner().own(), Owner().greet(), Owner.make(), module.setting) == (
        "patched own", "patched base", "patched Owner", "again")

    patches.undo()
    assert not patches.applied
    assert (Owner().own(), Owner().greet(), Owner.make(), module.setting) == ("own", "base", "Owner", "before")
    assert "greet" not in vars(Owner)  # inherited again, not copied down
    assert isinstance(vars(Owner)["make"], classmethod)
    patches.undo()  # idempotent
