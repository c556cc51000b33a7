"""`${name.path}` in scenario arguments: values captured by an earlier step's `save_as`.

``${found.tickets.0.id}`` is the `id` of the first ticket in the structured content the step
saved as `found` answered with. A string that is exactly one reference takes the value with
its type (an integer stays an integer); a reference inside a longer string is interpolated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_-]*)((?:\.[A-Za-z0-9_-]+)*)\}")


class TemplateError(ValueError):
    """A reference to nothing: an unknown name, or a path the saved value does not have."""


def substitute(value: Any, lookup: Callable[[str], Any]) -> Any:
    """`value` with every reference replaced; `lookup(name)` returns what was saved under `name`.

    Raises:
        TemplateError: a name was never saved, or its value has no such path.
    """
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        if whole:
            return _resolve(whole, lookup)
        return _REFERENCE.sub(lambda match: str(_resolve(match, lookup)), value)
    if isinstance(value, Mapping):
        return {key: substitute(item, lookup) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, lookup) for item in value]
    return value


def _resolve(match: re.Match[str], lookup: Callable[[str], Any]) -> Any:
    current = lookup(match.group(1))
    walked = match.group(1)
    for part in filter(None, match.group(2).split(".")):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise TemplateError(f"{match.group(0)}: {walked} has no {part!r} (it is {_short(current)})")
        walked += f".{part}"
    return current


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:157] + "..."
