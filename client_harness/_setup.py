"""Where a harness command's servers come from, and where its state and server logs go."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from client_harness.config import HarnessConfig, load_config, suite_config


@dataclass(frozen=True)
class RunSetup:
    """The servers to connect to and this run's working directory."""

    config: HarnessConfig
    run_dir: Path

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "logs"


def prepare(config: str | None, *, policy: Path | None, state_dir: Path | None, servers: list[str] | None) -> RunSetup:
    """`--config` if given; else the suite's own servers over stdio, sharing `state_dir`.

    Without `state_dir`, the run gets a fresh temporary directory, so a scenario run starts from
    the suite's seed data and an empty audit chain every time.

    Raises:
        HarnessConfigError: the config cannot be read.
    """
    run_dir = (state_dir or Path(tempfile.mkdtemp(prefix="mcpgov-harness-"))).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    if config is not None:
        loaded = load_config(config)
        if servers:
            loaded = HarnessConfig(
                {loaded.key_for(n): loaded.servers[loaded.key_for(n)] for n in servers}, loaded.source
            )
        return RunSetup(loaded, run_dir)
    from servers.registry import server_names

    return RunSetup(suite_config(servers or server_names(), state_dir=run_dir, policy=policy), run_dir)
