"""A bare server over stdio, built the way ``mcpgov serve NAME --transport stdio`` builds its server.

The cold-start baseline: ``python -m bench.bare_stdio knowledge_base --data-dir DIR``.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> None:
    name = sys.argv[1]
    data_dir = Path(sys.argv[sys.argv.index("--data-dir") + 1]) if "--data-dir" in sys.argv else Path(".mcpgov")
    from servers._config import ServerConfig
    from servers.registry import build_server

    build_server(name, ServerConfig(data_dir=data_dir)).run("stdio")


if __name__ == "__main__":
    main()
