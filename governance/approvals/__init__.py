"""Write-operation approvals: durable, single-use, bound to the exact call, decided by a reviewer.

`ApprovalStore` keeps requests next to the audit log; `review` is how a reviewer
decides (CLI and HTTP admin API alike); the approval guard in
`governance.guards.approval` is where a gated call waits.
"""

from governance.approvals._review import ReviewRefused, approval_event, review
from governance.approvals._store import Approval, ApprovalStateError, ApprovalStore, Binding

__all__ = [
    "Approval",
    "ApprovalStateError",
    "ApprovalStore",
    "Binding",
    "ReviewRefused",
    "approval_event",
    "review",
]
