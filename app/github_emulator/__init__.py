"""A local GitHub: the subset of GitHub's REST API Tenon uses, over real HTTP, with real git
repositories on disk (cloned and pushed with git over HTTP), a workflow runner, signed
webhooks and fault injection.

`server.create_emulator_app(config.EmulatorConfig(...))` builds the ASGI app; `tenon
github-emulator` serves it.
"""
