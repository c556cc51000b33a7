"""JSON logs on stderr carry no secret raw."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest


@pytest.mark.requirement("redaction.logs")
def test_log_lines_are_json_on_stderr_with_secrets_redacted() -> None:
    script = (
        "from governance.logs import get_logger\n"
        "get_logger('t').info('event', api_key='sk-live-abcdefghijklmnopqrstuvwx', "
        "note='key AKIAIOSFODNN7EXAMPLE here', url='https://u:hunter2@db.example/x')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True, timeout=60)
    assert done.stdout == b""  # stdout is the MCP wire on stdio
    line = orjson.loads(done.stderr.splitlines()[-1])
    assert line["event"] == "event"
    assert line["api_key"] == "[REDACTED]"
    assert "AKIAIOSFODNN7EXAMPLE" not in done.stderr.decode()
    assert "hunter2" not in done.stderr.decode()
