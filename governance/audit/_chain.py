"""The hash chain: what is hashed, and how one record links to the one before.

Each record's hash is ``sha256(prev_hash_hex + "\\n" + body)`` where ``body`` is
the canonical JSON of the record. ``seq`` is deliberately left out: the chain
itself is the order. Because a row's position is proved only by the hash it
points back to, verification can tell a deleted record (a link points to a hash
that is no longer there) from an inserted one (a link skips over a row) from an
edited one (a row's own hash no longer matches its body).
"""

from __future__ import annotations

import hashlib

from governance.model import AuditRecord, canonical_json

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first record in a chain."""


def record_body(record: AuditRecord) -> str:
    """The canonical JSON text of a record: exactly what is stored and hashed."""
    return canonical_json(record.model_dump(mode="json")).decode()


def chain_hash(prev_hash: str, body: str) -> str:
    """The hash of a record whose body is ``body`` and whose predecessor's hash is ``prev_hash``."""
    return hashlib.sha256(b"%s\n%s" % (prev_hash.encode(), body.encode())).hexdigest()
