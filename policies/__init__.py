"""Policies: pure decisions from an emotion state and the dialogue so far to a tone directive.

Imports only ``perception``.
"""

from empathic.policies.moves import MOVE_TABLE, MOVES, TONE_TABLE, TONES, Move, MoveSpec, Tone, ToneSpec
from empathic.policies.profile import Condition, Profile, Rule, load_profile, shipped_profiles
from empathic.policies.types import DialogueState, Policy, ToneDirective

__all__ = [
    "MOVES",
    "MOVE_TABLE",
    "TONES",
    "TONE_TABLE",
    "Condition",
    "DialogueState",
    "Move",
    "MoveSpec",
    "Policy",
    "Profile",
    "Rule",
    "Tone",
    "ToneDirective",
    "ToneSpec",
    "load_profile",
    "shipped_profiles",
]
