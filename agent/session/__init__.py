"""The loop of one conversation: the session, its events, latency, settings and how it is built."""
