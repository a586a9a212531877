"""The edges: HTTP API, page, WebSocket, CLI, settings and the composition root."""
