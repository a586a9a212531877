"""The live feed: the gateway's events as WebSocket messages, resumable from any position."""
