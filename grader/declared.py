"""Configuration declared as pydantic models, and their validation errors as one line a person can act on.

A model derived from `Declared` refuses unknown keys and never converts a value's type (`"6"` is not a
number). `first_problem` turns pydantic's first error into `where: problem`, in the words a TOML author
reads: `stages[0].usres: unknown field (did you mean 'users'?)`, `duration_s: is required (is 'duraton_s' a
typo of it?)`, `users: must be between 1 and 2000, not 0`.
"""

from __future__ import annotations

import difflib
import re
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

_KINDS = {
    "float": "a number",
    "int": "an integer",
    "string": "a string",
    "bool": "true or false",
    "list": "a list",
    "tuple": "a list",
    "dict": "a table",
    "model": "a table",
}


class Declared(BaseModel):
    """A shape read from a file or a request: no unknown key, no silent type conversion, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


def where(loc: tuple[int | str, ...]) -> str:
    """`("stages", 0, "users")` as `stages[0].users`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def first_problem(error: ValidationError, model: type[BaseModel]) -> tuple[str, str]:
    """(where, problem) of the first error in `error`, raised while validating `model`."""
    first = error.errors(include_url=False)[0]
    loc = tuple(first["loc"])
    kind, value = first["type"], first.get("input")
    if kind == "missing":
        given = [key for key in value if isinstance(key, str)] if isinstance(value, dict) else []
        near = difflib.get_close_matches(str(loc[-1]), given, n=1)
        return where(loc), "is required" + (f" (is {near[0]!r} a typo of it?)" if near else "")
    if kind == "extra_forbidden":
        known = sorted(_fields(model, loc[:-1]))
        near = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean {near[0]!r}?" if near else f"known here: {', '.join(known)}"
        return where(loc), f"unknown field ({hint})"
    if kind == "literal_error":
        expected = str((first.get("ctx") or {}).get("expected", ""))  # "'closed' or 'open'", "1"
        choices = [choice.strip("'") for choice in re.split(r", | or ", expected) if choice]
        return where(loc), f"must be one of {', '.join(choices)}, not {value!r}"
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        low, high = _bounds(model, loc)
        return where(loc), f"must be between {low:g} and {high:g}, not {value!r}"
    if kind.endswith(("_type", "_parsing")) and (wanted := _KINDS.get(kind.split("_")[0])):
        return where(loc), f"must be {wanted}, not {value!r}"
    message = str(first["msg"]).removeprefix("Value error, ")
    return where(loc), message[:1].lower() + message[1:]


def _annotation_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside `annotation` (`Stage`, `tuple[Stage, ...]`, `Faults | None`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        if (found := _annotation_model(argument)) is not None:
            return found
    return None


def _walk(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[type[BaseModel], str | None]:
    """The model that holds the field at `loc`, and the field's name (None: `loc` names a model)."""
    current, name = model, None
    for part in loc:
        if isinstance(part, int):
            continue  # an item of a list: same model
        if name is not None:
            nested = _annotation_model(current.model_fields[name].annotation)
            if nested is None:
                break
            current = nested
        aliases = {field.alias: key for key, field in current.model_fields.items() if field.alias}
        name = part if part in current.model_fields else aliases.get(str(part))
        if name is None:
            break
    return current, name


def _fields(model: type[BaseModel], loc: tuple[int | str, ...]) -> set[str]:
    current, name = _walk(model, loc)
    if name is not None and (nested := _annotation_model(current.model_fields[name].annotation)) is not None:
        current = nested
    return set(current.model_fields)


def _bounds(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[float, float]:
    current, name = _walk(model, loc)
    low, high = float("-inf"), float("inf")
    if name is None:
        return low, high
    for bound in current.model_fields[name].metadata:  # annotated_types' Ge, Gt, Le, Lt
        for attribute in ("ge", "gt"):
            if (value := getattr(bound, attribute, None)) is not None:
                low = float(value)
        for attribute in ("le", "lt"):
            if (value := getattr(bound, attribute, None)) is not None:
                high = float(value)
    return low, high
