"""Tests of ``accord.integrations``, one folder per framework, each run in that
framework's own environment by ``scripts/integration_envs.py`` (the main run does not
collect them: ``norecursedirs`` in pyproject.toml)."""
