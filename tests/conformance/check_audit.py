"""Check the audit log a conformance run left behind: intact, and it saw both eras.

    check_audit.py sqlite:///PATH/audit.db

The governed fixture records every tools/resources/prompts request, so after a
run of both requirement sets the chain must verify and hold requests made at
2025-11-25 and at 2026-07-28. Exits 1 with the reason otherwise.
"""

from __future__ import annotations

import sys
from collections import Counter

from governance.audit import AuditStore, verify_chain

ERAS = ("2025-11-25", "2026-07-28")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with AuditStore.open(argv[0], create=False) as store:
        report = verify_chain(store)
        eras = Counter(stored.record.protocol_version for stored in store.iter_records())
        outcomes = Counter(stored.record.outcome for stored in store.iter_records())
    print(f"audit: {report.checked} records, chain {'intact' if report.ok else 'BROKEN'}")
    print("audit: by protocol version: " + ", ".join(f"{v}={n}" for v, n in sorted(eras.items(), key=str)))
    print("audit: by outcome: " + ", ".join(f"{o}={n}" for o, n in sorted(outcomes.items())))
    if not report.ok:
        print(f"audit: record {report.first_bad_seq} {report.problem}: {report.detail}", file=sys.stderr)
        return 1
    missing = [era for era in ERAS if eras[era] == 0]
    if missing:
        print(f"audit: no requests recorded at {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
