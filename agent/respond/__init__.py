"""Reply generation: the template responder, the LLM responder, its prompt, reply checks and embedded models."""
