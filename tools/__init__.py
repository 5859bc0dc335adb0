"""Maintainers' tools that are not tests: the mutation-testing driver (`python -m tools.mutation`)."""
