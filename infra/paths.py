"""JSONPaths and payloads of the state machines, built from the contract models of faceswap.states: a field that
is renamed or misspelt on either side stops the synth here, instead of failing a job at run time."""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel


def path(model: type[BaseModel], *names: str) -> str:
    """`$.a.b` for the field `a` of `model` and the field `b` of a's model; KeyError on a name that is not one."""
    current: type[BaseModel] | None = model
    for name in names:
        if current is None:
            raise KeyError(f"{'.'.join(names)}: {name!r} is below a field that is not a model")
        field = _field(current, name)
        current = _model_in(field.annotation)
    return "$." + ".".join(names)


def fields(model: type[BaseModel], **values: Any) -> dict[str, Any]:
    """A state's payload for `model`: every key must be one of its fields, and every required field given."""
    for name in values:
        _field(model, name)
    missing = [name for name, info in model.model_fields.items() if info.is_required() and name not in values]
    if missing:
        raise KeyError(f"{model.__name__} requires {missing}")
    return dict(values)


def _field(model: type[BaseModel], name: str) -> Any:
    try:
        return model.model_fields[name]
    except KeyError:
        raise KeyError(f"{model.__name__} has no field {name!r} (fields: {sorted(model.model_fields)})") from None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds: `Model`, or `Model | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        models = [m for m in map(_model_in, get_args(annotation)) if m is not None]
        return models[0] if len(models) == 1 else None
    return None
