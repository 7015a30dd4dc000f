"""The foundation every layer stands on: settings, ids, the registry's source model, the canonical meeting
vocabulary, time parsing, SQL quoting and path confinement. It imports nothing else of the project
(``docs/architecture.md``; ``tests/test_layers.py`` checks it)."""

__version__ = "0.1.0"
