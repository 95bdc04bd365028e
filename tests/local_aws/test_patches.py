"""local.aws.patches and local.aws.moto_pin: how every shim of the harness patches moto, undoes it, and refuses a
moto whose internals moved."""

from __future__ import annotations

import types

import pytest

from local.aws import moto_pin
from local.aws.patches import Patches, PatchTargetError, applied_targets
from local.aws.stack import LocalStack


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


def test_apply_refuses_a_missing_target_and_add_an_existing_one() -> None:
    patches = Patches()
    with pytest.raises(PatchTargetError, match=r"test_patches\.Owner\.moved does not exist in moto 5\.2\.5"):
        patches.apply(Owner, "moved", lambda self: None)
    with pytest.raises(PatchTargetError, match=r"test_patches\.Owner\.own exists in moto"):
        patches.add(Owner, "own", lambda self: None)
    patches.add(Owner, "extra", "added")
    assert Owner.extra == "added"  # type: ignore[attr-defined]
    patches.undo()
    assert not hasattr(Owner, "extra")
    assert not patches.applied


def test_the_pinned_moto_has_every_target() -> None:
    assert moto_pin.pinned_version() == moto_pin.installed_version() == "5.2.5"
    assert moto_pin.moved_targets() == []
    moto_pin.check()


def test_a_moved_target_or_another_version_fails_with_one_error_naming_each(
        monkeypatch: pytest.MonkeyPatch) -> None:
    targets = {**moto_pin.TARGETS, "time_warp": (*moto_pin.TARGETS["time_warp"], "moto.events.models.Rule.gone")}
    monkeypatch.setattr(moto_pin, "TARGETS", targets)
    monkeypatch.setattr(moto_pin, "ADDED", {"cfn_shims": ("moto.events.models.Rule.enable",)})
    shim = types.SimpleNamespace(install=lambda: pytest.fail("nothing may be patched"), uninstall=lambda: None)
    with pytest.raises(moto_pin.MotoMismatch) as raised, moto_pin.patched(shim):  # type: ignore[arg-type]
        pytest.fail("unreachable")
    message = str(raised.value)
    assert "moto 5.2.5" in message
    assert "moved: moto.events.models.Rule.gone (time_warp: missing)" in message
    assert "moved: moto.events.models.Rule.enable (cfn_shims: now exists" in message

    monkeypatch.setattr(moto_pin, "installed_version", lambda: "9.9.9")
    with pytest.raises(moto_pin.MotoMismatch, match=r"patches moto 5\.2\.5 .*installed: moto 9\.9\.9"):
        moto_pin.check_version()


def test_the_running_stack_patched_exactly_the_listed_targets(aws: LocalStack) -> None:
    listed = {t for targets in (*moto_pin.TARGETS.values(), *moto_pin.ADDED.values()) for t in targets}
    assert applied_targets() == listed
