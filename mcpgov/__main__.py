from mcpgov.cli import main

main()
