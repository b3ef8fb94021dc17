"""``accord mcp``: accord's tools for coding agents over MCP (extra ``accord[mcp]``).

Built on the official SDK's ``MCPServer``. Modules: ``command`` (the CLI command;
imports no extra), ``server`` (the server, its resources, stdio and streamable HTTP),
``agents`` (who a call acts for: ``--agent`` or the bearer token, never an argument),
``tools`` (the tools on today's API, a registry).
"""
