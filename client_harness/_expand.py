"""`${env:NAME}`, `${NAME}` and `${NAME:-default}` in config values, expanded at connect time."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from client_harness.config import HarnessConfigError

_VARIABLE = re.compile(r"\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand(value: str, where: str, environ: Mapping[str, str] | None = None) -> str:
    """`value` with every variable replaced by its value from the environment.

    Raises:
        HarnessConfigError: a variable without a default is not set; the message names it, never a value.
    """
    source = os.environ if environ is None else environ

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in source:
            return source[name]
        if default is not None:
            return default
        raise HarnessConfigError(f"{where} uses ${{{name}}}, which is not set; export {name} or give a default")

    return _VARIABLE.sub(replace, value)


def expand_all(values: Mapping[str, str], where: str) -> dict[str, str]:
    """Every value of `values` expanded (keys are left as written)."""
    return {key: expand(value, f"{where}.{key}") for key, value in values.items()}
