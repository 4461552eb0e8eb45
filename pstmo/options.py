"""Typed ``KEY=VALUE`` options and command-line flags generated from configuration dataclasses.

One parser for every place a user types a value as text: ``pstmo train --set channel=64``,
``pstmo sweep --grid weight_sharing=true,false``, ``--set components=sem,tem``.

- :func:`parse_value` turns text into a value of a declared type (``bool``, ``int``, ``float``,
  ``str``, ``None`` for optional fields, ``tuple``/``list`` of those): ``"False"`` is ``False``,
  never the truthy string ``"False"``; ``"none"`` is ``None`` only where ``None`` is allowed.
  Without a declared type it reads a Python literal, with ``true``/``false``/``none``/``null``
  understood in any case, and falls back to the text.
- :func:`parse_assignments` reads a list of ``KEY=VALUE`` items against a dataclass (or a dict of
  names to types) and names the valid keys when one is unknown.
- :func:`add_dataclass_arguments` adds one ``--flag`` per dataclass field to an argparse parser,
  with the field's ``metadata["help"]`` and ``metadata["choices"]``; every default is ``None``
  (= "keep the configured value"), booleans get ``--x/--no-x``.

Errors are :class:`pstmo.errors.ConfigError` with one sentence naming the key, the value and
what was expected.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import math
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from pstmo.errors import ConfigError

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_NONE = {"none", "null"}


def _literal(text: str) -> Any:
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low in _NONE:
        return None
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text.strip()


def _split_items(text: str) -> list[str]:
    text = text.strip()
    if text[:1] in "([" and text[-1:] in ")]":
        text = text[1:-1]
    return [t.strip().strip("'\"") for t in text.split(",") if t.strip()]


def _union_args(tp: Any) -> tuple[Any, ...] | None:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return None


def parse_value(text: str, tp: Any = None, key: str = "value") -> Any:
    """``text`` as a value of type ``tp`` (see the module docstring); ``tp=None``: a literal."""
    if not isinstance(text, str):
        return text
    if tp is None or tp is Any:
        return _literal(text)
    args = _union_args(tp)
    if args is not None:
        if text.strip().lower() in _NONE and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return parse_value(text, option, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{key}={text!r}: expected one of {options}")
    origin = typing.get_origin(tp)
    if origin in (tuple, list):
        inner = typing.get_args(tp)
        item_tp = inner[0] if inner else None
        items = [parse_value(t, item_tp, key) for t in _split_items(text)]
        return tuple(items) if origin is tuple else items
    if tp is bool:
        low = text.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ConfigError(f"{key}={text!r}: expected true or false")
    if tp is int:
        try:
            return int(text.strip())
        except ValueError:
            raise ConfigError(f"{key}={text!r}: expected an integer") from None
    if tp is float:
        try:
            value = float(text.strip())
        except ValueError:
            raise ConfigError(f"{key}={text!r}: expected a number") from None
        if not math.isfinite(value):
            raise ConfigError(f"{key}={text!r}: expected a finite number")
        return value
    if tp is str:
        return text.strip()
    return _literal(text)


def field_types(cls: type) -> dict[str, Any]:
    """``{field name: resolved type}`` of a dataclass."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def parse_assignments(items: Iterable[str], types_: Mapping[str, Any] | type, what: str = "--set") -> dict:
    """``["channel=64", "weight_sharing=false"]`` -> ``{"channel": 64, "weight_sharing": False}``.

    ``types_`` is a dataclass or a mapping of the allowed keys to their types (``None`` = literal).
    """
    allowed = field_types(types_) if isinstance(types_, type) else dict(types_)
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"{what} {item!r}: expected KEY=VALUE")
        if key not in allowed:
            raise ConfigError(f"{what} {key}: not an option here; choose from {', '.join(sorted(allowed))}")
        out[key] = parse_value(value, allowed[key], key)
    return out


def _flag_type(tp: Any) -> Any:
    """The argparse ``type`` callable of a field type (text -> value, ConfigError as ArgumentTypeError)."""

    def convert(text: str) -> Any:
        try:
            return parse_value(text, tp)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[-1]) from None

    convert.__name__ = getattr(tp, "__name__", str(tp))
    return convert


def add_dataclass_arguments(
    parser: argparse.ArgumentParser, cls: type, skip: Iterable[str] = (), dest_prefix: str = ""
) -> list[str]:
    """One flag per field of dataclass ``cls`` (``snake_case`` -> ``--snake-case``); returns the
    destination names. Defaults are ``None`` so that only the flags a user gives override."""
    skip = set(skip)
    dests = []
    hints = field_types(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip or not f.init:
            continue
        tp = hints[f.name]
        flag = "--" + f.name.replace("_", "-")
        dest = dest_prefix + f.name
        help_text = f.metadata.get("help", "")
        bare = [a for a in (_union_args(tp) or (tp,)) if a is not type(None)]
        if bare == [bool]:
            parser.add_argument(
                flag, dest=dest, action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
        else:
            choices = f.metadata.get("choices")
            parser.add_argument(
                flag, dest=dest, type=_flag_type(tp), default=None, choices=choices, help=help_text,
                metavar=f.metadata.get("metavar"),
            )  # fmt: skip
        dests.append(dest)
    return dests


def option(
    default: Any = dataclasses.MISSING, help: str = "", choices: Iterable[Any] | None = None, **kw: Any
):
    """A dataclass ``field`` carrying its command-line help (and allowed values)."""
    metadata = {"help": help}
    if choices is not None:
        metadata["choices"] = tuple(choices)
    if "default_factory" in kw:
        return dataclasses.field(default_factory=kw.pop("default_factory"), metadata=metadata, **kw)
    return dataclasses.field(default=default, metadata=metadata, **kw)


__all__ = [
    "add_dataclass_arguments",
    "field_types",
    "option",
    "parse_assignments",
    "parse_value",
]
