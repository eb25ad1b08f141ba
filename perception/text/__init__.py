"""Emotion from words: cue patterns, the MiniLM default perceiver, a Hugging Face backend, and the lexicon fallback."""

from empathic.perception.text.cues import TextCues, find_cues
from empathic.perception.text.lexicon import LexiconTextPerceiver

__all__ = ["LexiconTextPerceiver", "TextCues", "find_cues"]
