"""The HTTP admin API for reviewers: `/admin/api/approvals`.

Off by default. Until authentication lands, it is served only on a loopback
bind, acts as one reviewer fixed when the server starts (`--admin-as`), and
accepts only JSON requests whose Host is loopback: a web page elsewhere can
neither reach it by DNS rebinding nor post a form to it.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from governance.approvals._review import ReviewRefused, review
from governance.approvals._store import Approval, ApprovalStateError, ApprovalStore, Status
from governance.audit import AuditStore
from governance.errors import AuditUnavailable
from governance.policy import Policy

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
STATUSES: tuple[Status, ...] = ("pending", "approved", "denied", "expired", "consumed")


def _json(approval: Approval) -> dict[str, Any]:
    return {
        "id": approval.id,
        "status": approval.status,
        "principal": approval.principal,
        "server": approval.server,
        "tool": approval.tool,
        "arguments": approval.arguments,
        "args_digest": approval.args_digest,
        "approvers": list(approval.approvers),
        "created_at": approval.created_at,
        "expires_at": approval.expires_at,
        "decided_by": approval.decided_by,
        "comment": approval.comment,
    }


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def admin_routes(policy: Policy, audit: AuditStore, approvals: ApprovalStore, *, reviewer: str) -> list[Route]:
    """The admin API's routes, deciding as `reviewer`."""

    def refused(request: Request) -> JSONResponse | None:
        host = (request.headers.get("host") or "").rsplit(":", 1)[0]
        if host not in LOOPBACK_HOSTS:
            return _error(421, "the admin API answers only to a loopback Host header")
        if request.method == "POST" and request.headers.get("content-type", "").split(";")[0] != "application/json":
            return _error(415, "send the decision as JSON (Content-Type: application/json)")
        return None

    async def list_approvals(request: Request) -> JSONResponse:
        if (refusal := refused(request)) is not None:
            return refusal
        status = request.query_params.get("status", "pending")
        if status not in STATUSES:
            return _error(400, f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
        rows = await anyio.to_thread.run_sync(lambda: approvals.list(status))
        return JSONResponse({"approvals": [_json(a) for a in rows]})

    async def show(request: Request) -> JSONResponse:
        if (refusal := refused(request)) is not None:
            return refusal
        found = await anyio.to_thread.run_sync(approvals.get, request.path_params["approval_id"])
        return _error(404, "no such approval") if found is None else JSONResponse(_json(found))

    async def decide(request: Request) -> JSONResponse:
        if (refusal := refused(request)) is not None:
            return refusal
        try:
            body = await request.json()
        except ValueError:
            return _error(400, 'the body is not JSON; send {"comment": "..."}')
        comment = body.get("comment") if isinstance(body, dict) else None
        if comment is not None and not isinstance(comment, str):
            return _error(400, "comment must be a string")
        if request.path_params["decision"] not in ("approve", "deny"):
            return _error(404, "POST .../approve or .../deny")
        approve = request.path_params["decision"] == "approve"

        def run() -> Approval:
            return review(
                approvals, policy, audit, request.path_params["approval_id"],
                reviewer=reviewer, approve=approve, comment=comment, transport="http",
            )  # fmt: skip

        try:
            decided = await anyio.to_thread.run_sync(run)
        except ReviewRefused as error:
            return _error(403, str(error))
        except ApprovalStateError as error:
            return _error(404 if "no approval has id" in str(error) else 409, str(error))
        except AuditUnavailable as error:
            return _error(503, str(error))
        return JSONResponse(_json(decided))

    return [
        Route("/admin/api/approvals", list_approvals, methods=["GET"]),
        Route("/admin/api/approvals/{approval_id}", show, methods=["GET"]),
        Route("/admin/api/approvals/{approval_id}/{decision:str}", decide, methods=["POST"]),
    ]
