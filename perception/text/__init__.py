"""Emotion from words: cue patterns and text perceivers."""

from perception.text.cues import TextCues, find_cues
from perception.text.lexicon import LexiconTextPerceiver

__all__ = ["LexiconTextPerceiver", "TextCues", "find_cues"]
