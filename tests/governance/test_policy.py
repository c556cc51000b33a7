"""The policy document: validation with file, line and field; Cedar decisions; the version."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from governance.errors import PolicyError
from governance.model import ToolInfo
from governance.policy import Policy, default_policy_path
from mcpgov.cli import app

GOOD = """\
version: 1
principals:
  alice: {roles: [support]}
roles:
  support:
    allow: ["tickets.*", "knowledge_base.search_articles"]
    deny: ["tickets.delete_*"]
"""

BAD = """\
version: 1
principals:
  alice:
    roles: [support]
roles:
  support:
    allow: ["tickets.*"]
    alow: ["files.*"]
tools:
  tickets.create_ticket:
    approval: sometimes
    params:
      priority: {minimum: 5, maximum: 1}
"""


def tool(server: str, name: str, *, read_only: bool = True) -> ToolInfo:
    return ToolInfo(server, name, {}, read_only=read_only)


@pytest.mark.requirement("policy.rejected-with-location")
def test_a_bad_policy_is_rejected_with_the_line_and_field_of_each_problem() -> None:
    with pytest.raises(PolicyError) as raised:
        Policy.from_text(BAD, source="deploy.yaml")
    problems = {(p.line, p.field) for p in raised.value.problems}
    assert problems == {
        (8, "roles.support.alow"),
        (11, "tools.tickets.create_ticket.approval"),
        (13, "tools.tickets.create_ticket.params.priority"),
    }
    text = str(raised.value)
    assert "deploy.yaml:8: roles.support.alow: unknown field" in text
    assert "minimum is greater than maximum" in text


@pytest.mark.requirement("policy.rejected-with-location")
def test_a_role_that_is_not_defined_is_named() -> None:
    with pytest.raises(PolicyError, match="principal 'bob' has role 'admin', which is not defined"):
        Policy.from_text("principals:\n  bob: {roles: [admin]}\n")


@pytest.mark.requirement("policy.rejected-with-location")
def test_broken_yaml_is_reported_at_its_line() -> None:
    with pytest.raises(PolicyError) as raised:
        Policy.from_text("roles:\n  a:\n    allow: [x.y\n", source="p.yaml")
    assert raised.value.problems[0].field == "<yaml>"
    assert raised.value.problems[0].line is not None


@pytest.mark.requirement("policy.cedar-deny-overrides")
def test_deny_overrides_allow_and_names_the_deciding_policy() -> None:
    policy = Policy.from_text(GOOD)
    allowed = policy.decide("alice", tool("tickets", "create_ticket"))
    denied = policy.decide("alice", tool("tickets", "delete_ticket"))
    assert allowed.allowed and allowed.policy_ids == ("role:support:allow:tickets.*",)
    assert not denied.allowed and denied.policy_ids == ("role:support:deny:tickets.delete_*",)


@pytest.mark.requirement("allowlist.default-deny")
def test_nothing_is_allowed_without_a_rule_or_to_an_unknown_principal() -> None:
    policy = Policy.from_text(GOOD)
    assert not policy.decide("alice", tool("files", "read_file")).allowed
    assert not policy.decide("eve", tool("tickets", "create_ticket")).allowed


@pytest.mark.requirement("approval.default-for-writes")
def test_a_tool_that_is_not_read_only_needs_approval_unless_the_policy_says_never() -> None:
    policy = Policy.from_text(GOOD + "tools:\n  tickets.add_comment:\n    approval: never\n")
    assert policy.needs_approval(tool("tickets", "create_ticket", read_only=False))
    assert not policy.needs_approval(tool("tickets", "add_comment", read_only=False))
    assert not policy.needs_approval(tool("tickets", "get_ticket", read_only=True))


@pytest.mark.requirement("policy.version")
def test_the_policy_version_is_the_sha256_of_the_document_and_changes_with_it() -> None:
    one = Policy.from_text(GOOD)
    assert one.version == Policy.from_text(GOOD).version
    assert one.version != Policy.from_text(GOOD + "# a comment\n").version
    assert len(one.version) == 64


@pytest.mark.requirement("policy.cedar-files")
def test_raw_cedar_files_add_rules_and_are_schema_checked(tmp_path: Path) -> None:
    (tmp_path / "extra.cedar").write_text(
        '@id("freeze-deletes")\nforbid (principal, action, resource is Tool)\n'
        'when { resource.name like "*.delete_*" };\n'
    )
    (tmp_path / "policy.yaml").write_text(
        "principals:\n  a: {roles: [r]}\nroles:\n  r:\n    allow: ['*']\ncedar: [extra.cedar]\n"
    )
    policy = Policy.load(tmp_path / "policy.yaml")
    decision = policy.decide("a", tool("tickets", "delete_ticket"))
    assert not decision.allowed and decision.policy_ids == ("freeze-deletes",)
    (tmp_path / "extra.cedar").write_text('forbid (principal, action, resource) when { resource.nmae == "x" };\n')
    with pytest.raises(PolicyError, match=r"extra\.cedar"):
        Policy.load(tmp_path / "policy.yaml")


@pytest.mark.requirement("policy.check-cli")
def test_policy_check_exits_zero_for_a_good_file_and_lists_problems_for_a_bad_one(tmp_path: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(app, ["policy", "check", str(default_policy_path().with_name("example.yaml"))])
    assert good.exit_code == 0, good.output
    assert good.output.startswith("ok: ")
    (tmp_path / "bad.yaml").write_text(BAD)
    bad = runner.invoke(app, ["policy", "check", str(tmp_path / "bad.yaml")])
    assert bad.exit_code == 1
    assert f"{tmp_path / 'bad.yaml'}:8: roles.support.alow: unknown field" in bad.output
    missing = runner.invoke(app, ["policy", "check", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 1
    assert "cannot read" in missing.output
