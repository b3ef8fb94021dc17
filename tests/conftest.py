"""accord's own tests: the conformance suite's fixtures come from ``accord.testing.plugin``
(loaded by ``-p`` in pyproject.toml), and the suite itself from ``accord.testing.conformance``;
the modules here test what only one store, the CLI, the demo or the project has to prove."""
