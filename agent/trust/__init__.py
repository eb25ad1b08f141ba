"""Trust: consent per channel, the compliance guard, redaction and opt-in recording."""
