"""One benchmarked server in its own process: ``python -m bench.serve TOOLSET bare|governed --port N``.

The same Starlette app shape either way (the gateway, one server at
``/mcp/NAME``, JSON responses) under uvicorn with one worker, uvloop and
httptools. Governed means what ``mcpgov serve`` does: the bench policy, the
audit store on SQLite, JSON logs on stderr.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

import uvicorn

from bench.toolsets import POLICY_PATH, TOOLSETS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("toolset", choices=sorted(TOOLSETS))
    parser.add_argument("mode", choices=["bare", "governed"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--db", help="audit database URL (governed)")
    parser.add_argument("--data-dir", type=Path, default=Path(".mcpgov/bench-data"))
    parser.add_argument("--policy", type=Path, default=POLICY_PATH)
    parser.add_argument(
        "--experiment", default="", help="governed: comma-separated diagnostic patches (bench/experiments.py)"
    )
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the event-loop thread here on exit")
    args = parser.parse_args(argv)

    from servers.gateway import build_gateway

    # As `mcpgov serve` does, in both modes: the SDK's INFO lines off.
    logging.getLogger("mcp").setLevel(logging.WARNING)
    server = TOOLSETS[args.toolset].build(args.data_dir)
    audit = None
    if args.mode == "governed":
        from governance import AuditStore, Governance, Policy, govern
        from governance.logs import configure_logging

        configure_logging()
        if args.experiment:
            from bench.experiments import apply

            apply([name for name in args.experiment.split(",") if name])
        audit = AuditStore.open(args.db)
        govern(server, Governance(policy=Policy.load(args.policy), audit=audit, transport="http"))
    app = build_gateway([server], host=args.host, json_response=True)
    # uvicorn re-raises SIGTERM once it has shut down; exit normally instead, so
    # the audit store closes and a profile is written.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    profiler = None
    if args.profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            workers=1,
            loop="uvloop",
            http="httptools",
            log_level="warning",
            access_log=False,
        )
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        if audit is not None:
            audit.close()


if __name__ == "__main__":
    main()
