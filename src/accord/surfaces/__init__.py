"""What people and other programs use accord through: the ``accord`` command line
(:mod:`~accord.surfaces.cli`, commands in ``cli_store`` and ``cli_agents``, shared pieces
in ``clikit``), its demo (:mod:`~accord.surfaces.demo`), the live web dashboard
(:mod:`~accord.surfaces.dashboard`) and the MCP server for coding agents
(:mod:`~accord.surfaces.mcp_server`); :mod:`~accord.surfaces.views` makes the documents
they all show. The framework integrations are surfaces too, in
:mod:`accord.integrations`.

A surface uses only the public API (``accord``, ``accord.errors``, ``accord.backends``),
never a private module: an ``import-linter`` contract in ``pyproject.toml`` checks it.
Its heavy dependencies are extras (``accord[dashboard]``, ``accord[mcp]``), imported
only when its command runs.
"""
