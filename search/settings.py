"""Settings as typed data that also make their command-line options: each default and help written once.

A settings group is a frozen dataclass whose fields are declared with ``option(...)``: the default, the
help text, the flag and whether the field changes a candidate's score (``fingerprint``). ``add_options``
turns a group into an argparse group, ``from_options`` reads the parsed values back into the group, and
``fingerprint_items`` lists a group's score-changing values under their (flat, stable) fingerprint keys.
``search.run``, ``fidelity.run`` and the generated option tables (``search.docs``) all read the fields.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

_META = "rife_nas_option"


@dataclasses.dataclass(frozen=True)
class Option:
    help: str
    flag: str | None = None  # "--val-items"; None with ``prefixed``: --PREFIX-NAME; None otherwise: not an option
    prefixed: bool = False  # the flag is --PREFIX-NAME and the fingerprint key PREFIX_NAME (proxy_steps, ...)
    parse: Callable[[str], Any] | None = None  # argparse ``type``; None: the default's type
    choices: tuple[Any, ...] | None = None
    metavar: str | None = None
    repeat: bool = False  # the option may be given several times; the values form a tuple
    negate: str | None = None  # a boolean that defaults True, turned off by this flag (e.g. "--no-lpips")
    fingerprint: bool = True  # changes a candidate's score: part of a study's fingerprint


def option(default: Any = dataclasses.MISSING, *, factory: Callable[[], Any] | None = None, **kw: Any) -> Any:
    """A dataclass field with its command-line option (see ``Option`` for the keywords)."""
    meta = {_META: Option(**kw)}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _options(cls: type) -> Iterator[tuple[dataclasses.Field, Option]]:
    for f in dataclasses.fields(cls):
        opt = f.metadata.get(_META)
        if opt is not None:
            yield f, opt


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def flag_of(f: dataclasses.Field, opt: Option, prefix: str) -> str | None:
    if opt.negate:
        return opt.negate
    if opt.flag:
        return opt.flag
    return f"--{prefix}-{f.name.replace('_', '-')}" if opt.prefixed else None


def key_of(f: dataclasses.Field, opt: Option, prefix: str) -> str:
    """The field's flat name: its fingerprint key and argparse destination."""
    return f"{prefix}_{f.name}" if opt.prefixed else f.name


def add_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type,
    prefix: str = "",
    *,
    only: set[str] | None = None,
    defaults: dict[str, Any] | None = None,
    what: str = "",
) -> None:
    """The options of ``cls``'s fields (those with a flag); ``only`` limits them to these field names,
    ``defaults`` overrides field defaults by field name, ``what`` ends each prefixed option's help."""
    defaults = defaults or {}
    for f, opt in _options(cls):
        flag = flag_of(f, opt, prefix)
        if flag is None or (only is not None and f.name not in only):
            continue
        default = defaults.get(f.name, _default(f))
        dest = key_of(f, opt, prefix)
        text = opt.help + (f" ({what})" if what and opt.prefixed else "")
        if opt.negate:
            parser.add_argument(flag, dest=dest, action="store_false", help=text)
            continue
        kw: dict[str, Any] = {"dest": dest, "help": text, "choices": opt.choices, "metavar": opt.metavar}
        kind = opt.parse or (type(default) if default is not None and not isinstance(default, (tuple, dict)) else str)
        if opt.repeat:
            parser.add_argument(flag, action="append", type=kind, default=None, **kw)
        else:
            parser.add_argument(flag, type=kind, default=default, **kw)


def from_options(cls: type, args: argparse.Namespace, prefix: str = "", **overrides: Any) -> Any:
    """An instance of ``cls`` from the parsed options (fields without an option keep their default)."""
    values: dict[str, Any] = {}
    for f, opt in _options(cls):
        dest = key_of(f, opt, prefix)
        if flag_of(f, opt, prefix) is None or not hasattr(args, dest):
            continue
        value = getattr(args, dest)
        if opt.repeat:
            if value is None:
                continue  # not given: the field's default
            value = tuple(value)
        values[f.name] = value
    return cls(**{**values, **overrides})


def fingerprint_items(obj: Any, prefix: str = "") -> dict[str, Any]:
    """``obj``'s score-changing fields under their flat keys (``proxy_steps``, ``val_items``, ...)."""
    return {key_of(f, opt, prefix): getattr(obj, f.name) for f, opt in _options(type(obj)) if opt.fingerprint}


def flat_keys(cls: type, prefix: str = "") -> dict[str, str]:
    """Flat key -> field name for every option field of ``cls`` (reads settings written flat)."""
    return {key_of(f, opt, prefix): f.name for f, opt in _options(cls)}
