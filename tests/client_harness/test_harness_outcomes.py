"""Reading what governance did from what came back, and checking it against expectations."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent

from client_harness._templates import TemplateError, substitute
from client_harness.expectations import check_call, check_records, subset_mismatch
from client_harness.outcomes import from_result, from_rpc_error
from client_harness.scenario_model import AuditStep, CallStep


def result(text: str, *, error: bool = False, structured: dict[str, Any] | None = None, meta: Any = None) -> Any:
    return CallToolResult(
        content=[TextContent(type="text", text=text)], is_error=error, structured_content=structured, _meta=meta
    )


PENDING = {
    "error": "approval_required",
    "approval_id": "apr_1",
    "status": "pending",
    "expires_at": "2026-11-22T09:00:00+00:00",
    "comment": None,
    "decided_by": None,
    "message": "Approval required",
}


def test_a_pending_approval_is_recognised_with_its_id_and_expiry() -> None:
    outcome = from_result(result("Approval required: ...", error=True, structured=PENDING))
    assert outcome.kind == "approval_pending"
    assert outcome.approval is not None
    assert (outcome.approval.approval_id, outcome.approval.expires_at) == ("apr_1", "2026-11-22T09:00:00+00:00")


def test_a_denial_carries_the_reviewers_comment_and_a_used_approval_is_not_pending() -> None:
    denied = {**PENDING, "error": "approval_denied", "status": "denied", "comment": "not yet", "decided_by": "sam"}
    consumed = {**PENDING, "status": "consumed"}
    assert from_result(result("Denied by sam: not yet", error=True, structured=denied)).kind == "approval_denied"
    assert from_result(result("already used", error=True, structured=consumed)).kind == "error"


def test_a_server_without_approval_ids_still_reads_as_pending_but_cannot_be_saved_for_review() -> None:
    outcome = from_result(result("Approval required", error=True, structured={"error": "approval_required"}))
    assert outcome.kind == "approval_pending"
    step = CallStep.model_validate({"call": "t.x", "expect": "approval_pending", "save_as": "req"})
    assert check_call(step, outcome) == [
        "cannot save the approval as 'req': the result has no approval_id "
        "(structured content: {'error': 'approval_required'})"
    ]


def test_the_unknown_tool_answer_and_a_json_rpc_refusal_both_read_as_denied() -> None:
    assert from_result(result("Unknown tool: get_article", error=True)).kind == "denied"
    refusal = from_rpc_error(MCPError(code=-32003, message="budget spent"))
    assert (refusal.kind, refusal.rpc_code) == ("denied", -32003)


def test_stale_data_is_flagged_by_meta_or_by_an_error_naming_its_age() -> None:
    warned = from_result(result("{}", meta={"mcpgov/stale": True}))
    blocked = from_result(result("Data is stale: as_of 2026-01-01 is 30 days old", error=True))
    assert (warned.kind, warned.stale) == ("allowed", True)
    assert (blocked.kind, blocked.stale) == ("stale", True)
    assert not from_result(result("fresh")).stale


LOOP = {"error": "loop_detected", "max_repeats": 5, "window_seconds": 600.0, "message": "Loop detected"}


def test_a_loop_refusal_reads_as_loop_and_a_rate_or_budget_refusal_as_limited() -> None:
    loop = from_result(result("Loop detected: 'search' was called 6 times ...", error=True, structured=LOOP))
    limited = from_rpc_error(MCPError(code=-32029, message="Rate limit reached: 120 calls per minute"))
    forbidden = from_rpc_error(MCPError(code=-32003, message="not allowed"))
    assert (loop.kind, loop.is_error) == ("loop", True)
    assert (limited.kind, limited.rpc_code, limited.is_error) == ("limited", -32029, True)
    assert forbidden.kind == "denied"
    loop_step = CallStep.model_validate({"call": "s.t", "expect": "loop"})
    limited_step = CallStep.model_validate({"call": "s.t", "expect": "limited"})
    assert (check_call(loop_step, loop), check_call(limited_step, limited)) == ([], [])
    assert check_call(limited_step, forbidden) == [
        "expected a rate-limit or budget refusal (JSON-RPC -32029); got denied: not allowed"
    ]


def test_meta_entries_match_as_a_subset_and_null_means_the_entry_is_absent() -> None:
    meta = {"mcpgov/stale": True, "mcpgov/provenance": {"source": "erp-us", "as_of": "2026-11-21T08:00:00+00:00"}}
    outcome = from_result(result("{}", meta=meta))
    passing = {"mcpgov/provenance": {"source": "erp-us"}, "mcpgov/stale": True, "mcpgov/untrusted": None}
    assert check_call(CallStep.model_validate({"call": "s.t", "meta": passing}), outcome) == []
    assert check_call(CallStep.model_validate({"call": "s.t", "meta": {"mcpgov/stale": None}}), outcome) == [
        "meta.mcpgov/stale: expected no such entry, got True"
    ]
    assert check_call(CallStep.model_validate({"call": "s.t", "meta": {"mcpgov/untrusted": True}}), outcome) == [
        "meta.mcpgov/untrusted: missing (keys: ['mcpgov/provenance', 'mcpgov/stale'])"
    ]


def test_lacks_looks_through_the_text_the_structured_content_and_the_meta() -> None:
    step = CallStep.model_validate({"call": "s.t", "lacks": "akia"})
    clean = from_result(result("key=[REDACTED]", structured={"key": "[REDACTED]"}, meta={"note": "none"}))
    leaked_in_structure = from_result(result("key=[REDACTED]", structured={"key": "AKIA..."}))
    leaked_in_meta = from_result(result("ok", meta={"echo": "AKIA..."}))
    assert check_call(step, clean) == []
    for outcome in (leaked_in_structure, leaked_in_meta):
        assert check_call(step, outcome) == [f"expected 'akia' nowhere in what came back; got allowed: {outcome.text}"]


def test_audit_records_must_each_match_a_different_record_and_lack_the_text() -> None:
    records = [
        {"tool": "get_price", "arguments": {"sku": "ACME-401-1"}, "stale": True, "outcome": "tool_error"},
        {"tool": "create_ticket", "arguments": {"description": "key [REDACTED]"}, "outcome": "ok"},
    ]
    exported = "\n".join(json.dumps({"record": record}) for record in records)
    step = AuditStep.model_validate(
        {"audit": "records", "contains": [{"tool": "get_price", "stale": True}], "lacks": "AKIA"}
    )
    assert check_records(step, records, exported) == []
    twice = AuditStep.model_validate({"audit": "records", "contains": [{"tool": "get_price"}, {"tool": "get_price"}]})
    assert check_records(twice, records, exported) == [
        "records[1]: no item matches {'tool': 'get_price'} (among 2 records)"
    ]
    leaked = AuditStep.model_validate({"audit": "records", "lacks": "[redacted]"})
    assert check_records(leaked, records, exported) == ["expected '[redacted]' in no audit record; it is there"]


@pytest.mark.parametrize(
    ("expect", "passes"),
    [
        ("allowed", False),
        ("denied", False),
        ("approval_pending", False),
        ("loop", False),
        ("limited", False),
        ("error", True),
        ("redacted", True),
    ],
)
def test_each_expectation_checks_its_own_outcome(expect: str, passes: bool) -> None:
    outcome = from_result(result("key=[REDACTED] rejected", error=True))
    step = CallStep.model_validate({"call": "s.t", "expect": expect})
    assert (check_call(step, outcome) == []) is passes


def test_error_contains_is_case_insensitive_and_an_allowed_call_fails_it() -> None:
    step = CallStep.model_validate({"call": "s.t", "error_contains": "invalid ARGUMENT 'limit'"})
    assert step.expectation == "error"
    assert check_call(step, from_result(result("Invalid argument 'limit': too big", error=True))) == []
    assert check_call(step, from_result(result("ok"))) == [
        "expected an error; got allowed: ok",
        "expected an error containing \"invalid ARGUMENT 'limit'\"; the call was allowed",
    ]


def test_result_fields_match_as_a_subset_lists_in_any_order_and_empty_only_empty() -> None:
    actual = {"query": "x", "hits": [{"id": 2, "title": "b"}, {"id": 1, "title": "a"}], "more": True}
    assert subset_mismatch({"hits": [{"id": 1}, {"id": 2}]}, actual, "result") is None
    assert subset_mismatch({"hits": [{"id": 1}, {"id": 1}]}, actual, "result") == (
        "result.hits[1]: no item matches {'id': 1}"
    )
    assert subset_mismatch({"hits": []}, actual, "result") is not None
    assert subset_mismatch({"more": 1}, actual, "result") == "result.more: expected 1, got True"
    assert subset_mismatch({"limit": 3.0}, {"limit": 3}, "r") is None
    assert subset_mismatch({"nope": 1}, actual, "result") == "result.nope: missing (keys: ['hits', 'more', 'query'])"


def test_saved_values_fill_later_arguments_keeping_their_type() -> None:
    saved = {"found": {"tickets": [{"id": 7, "subject": "Refund"}]}}
    filled = substitute(
        {"ticket_id": "${found.tickets.0.id}", "note": "re: ${found.tickets.0.subject}", "n": 1},
        saved.__getitem__,
    )
    assert filled == {"ticket_id": 7, "note": "re: Refund", "n": 1}
    with pytest.raises(TemplateError, match=r"found\.tickets\.0 has no 'status'"):
        substitute("${found.tickets.0.status}", saved.__getitem__)
