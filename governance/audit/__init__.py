"""The tamper-evident audit log: one hash chain of records, durable before a request runs.

`AuditStore` appends records (group-committed, fail closed) and reads them back;
`verify_chain` finds the first record that was edited, deleted or inserted. The
``mcpgov audit`` commands live in `governance.audit.cli`.
"""

from governance.audit._chain import GENESIS_HASH, chain_hash, record_body
from governance.audit._store import AuditStore, StoredRecord
from governance.audit._verify import Problem, VerifyReport, verify_chain

__all__ = [
    "GENESIS_HASH",
    "AuditStore",
    "Problem",
    "StoredRecord",
    "VerifyReport",
    "chain_hash",
    "record_body",
    "verify_chain",
]
