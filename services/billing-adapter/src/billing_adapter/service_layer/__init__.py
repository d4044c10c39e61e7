"""Use cases: one function per command, IO at the edges."""
