"""mcpgov's benchmark: what governance costs next to the bare MCP SDK, measured in the same run.

Run it with ``python -m bench`` (``make bench``); see ``bench/README.md``.
"""
