"""The one-command developer stack behind `make run` (`receivables-stack`).

It lives in the shared package so every clone gets it with `uv sync`; nothing
in a service imports it, and production never runs it.
"""
