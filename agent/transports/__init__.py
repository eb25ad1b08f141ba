"""Transports: thin adapters that carry a hosted session over HTTP, LangChain and other channels."""
