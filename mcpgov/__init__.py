"""The `mcpgov` command: a thin shell over the packages' own commands."""
