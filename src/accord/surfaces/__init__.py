"""What people and other programs use accord through: the ``accord`` command line
(:mod:`accord.surfaces.cli`) and its demo (:mod:`accord.surfaces.demo`); the dashboard
and the MCP server join them here. The framework integrations are surfaces too, in
:mod:`accord.integrations`.

A surface uses only the public API (``accord``, ``accord.errors``, ``accord.backends``),
never a private module: an ``import-linter`` contract in ``pyproject.toml`` checks it.
Its heavy dependencies are extras, imported by the surface alone.
"""
