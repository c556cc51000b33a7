"""Params: arguments must fit the tool's schema exactly, plus the policy's value constraints.

The tool's own schema is made strict (no property it does not declare) and the
policy's constraints are merged in; each tool's validator is compiled once,
when the pipeline is built, because a compiled check costs a few microseconds
and an interpreted one tens.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

import fastjsonschema

from governance.catalog import ToolCatalog
from governance.errors import ConfigurationError, InvalidArguments
from governance.guards import _value_checks
from governance.guards._base import CallNext
from governance.model import Outcome, ToolCall, ToolInfo
from governance.policy import Policy

Validator = Callable[[Any], Any]
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")


def strict_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `schema` in which every object that does not say otherwise forbids extra properties."""
    result = copy.deepcopy(dict(schema))

    def tighten(node: Any) -> None:
        if not isinstance(node, dict):
            return
        if (node.get("type") == "object" or "properties" in node) and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for key in _SUBSCHEMA_MAPS:
            for child in (node.get(key) or {}).values():
                tighten(child)
        for key in _SUBSCHEMA_LISTS:
            for child in node.get(key) or []:
                tighten(child)
        for key in ("items", "additionalProperties", "not"):
            tighten(node.get(key))

    tighten(result)
    return result


def build_validator(tool: ToolInfo, constraints: Mapping[str, dict[str, Any]]) -> Validator:
    """Compile the strict schema of `tool` with the policy's constraints merged in.

    Raises:
        ConfigurationError: the policy constrains an argument the tool does not have.
    """
    schema = strict_schema(tool.input_schema)
    properties = schema.setdefault("properties", {})
    for name, fragment in constraints.items():
        if name not in properties:
            known = ", ".join(sorted(properties)) or "none"
            raise ConfigurationError(
                f"policy tools.{tool.qualified_name}.params.{name}: the tool has no argument "
                f"{name!r} (its arguments: {known}); fix the name in the policy"
            )
        if fragment:
            properties[name] = {"allOf": [properties[name], fragment]}
    # use_default=False: validation must never rewrite the caller's arguments.
    return fastjsonschema.compile(schema, use_default=False)


_EXTRA = re.compile(r"must not contain \{(.*)\} properties")
_MISSING = re.compile(r"must contain \[(.*)\] properties")


def describe(error: fastjsonschema.JsonSchemaValueException, tool: ToolInfo) -> InvalidArguments:
    """Turn a schema failure into a message that names the argument and how to fix it."""
    path = [str(part) for part in (error.path or [])][1:]  # drop fastjsonschema's leading "data"
    field = ".".join(path) or None
    accepted = ", ".join(sorted((tool.input_schema.get("properties") or {}).keys())) or "none"
    if error.rule == "additionalProperties" and (extra := _EXTRA.search(error.message)):
        names = extra.group(1).replace("'", "")
        where = f" in '{field}'" if field else ""
        return InvalidArguments(
            f"Invalid arguments for '{tool.name}': unexpected argument {names}{where}. "
            f"Remove it; the tool accepts: {accepted}.",
            field=names if field is None else f"{field}.{names}",
        )
    if error.rule == "required" and (missing := _MISSING.search(error.message)):
        names = missing.group(1).replace("'", "")
        return InvalidArguments(
            f"Invalid arguments for '{tool.name}': missing required argument {names}. Add it and call again.",
            field=names,
        )
    detail = error.message.removeprefix(error.name or "").strip()
    return InvalidArguments(
        f"Invalid argument '{field or '(arguments)'}' for '{tool.name}': {detail}. Correct the value and call again.",
        field=field,
    )


def build_value_checks(policy: Policy, tool: ToolInfo) -> list[tuple[str, _value_checks.ValueCheck]]:
    """The policy's checks on what each argument points at (domains, hosts, tables)."""
    rule = policy.rule_for(tool)
    checks: list[tuple[str, _value_checks.ValueCheck]] = []
    for name, constraint in (rule.params if rule else {}).items():
        if constraint.email_domains:
            checks.append((name, _value_checks.email_domains(constraint.email_domains)))
        if constraint.url_hosts:
            checks.append((name, _value_checks.url_hosts(constraint.url_hosts)))
        if constraint.sql_tables:
            checks.append((name, _value_checks.sql_tables(constraint.sql_tables)))
    return checks


class ParamsGuard:
    """Refuses a call whose arguments do not fit the tool's schema and the policy."""

    def __init__(self, policy: Policy, catalog: ToolCatalog) -> None:
        self._validators = {
            name: build_validator(info, policy.param_constraints(info)) for name, info in catalog.tools.items()
        }
        self._value_checks = {name: build_value_checks(policy, info) for name, info in catalog.tools.items()}

    async def __call__(self, call: ToolCall, call_next: CallNext) -> Outcome:
        if call.method == "tools/call" and call.info is not None:
            self._check(call, call.info)
        return await call_next(call)

    def _check(self, call: ToolCall, tool: ToolInfo) -> None:
        try:
            self._validators[tool.name](dict(call.arguments))
        except fastjsonschema.JsonSchemaValueException as error:
            problem = describe(error, tool)
            problem.call = call
            raise problem from None
        for name, check in self._value_checks[tool.name]:
            if name in call.arguments and (message := check(call.arguments[name])) is not None:
                raise InvalidArguments(
                    f"Invalid argument '{name}' for '{tool.name}': {message}. Change it and call again.",
                    field=name,
                    call=call,
                )
