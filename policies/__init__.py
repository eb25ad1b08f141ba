"""Policies: pure decisions from an emotion state and the dialogue so far to a tone directive.

Imports only ``perception``.
"""

from empathic.policies.profile import Condition, Profile, Rule, load_profile, shipped_profiles
from empathic.policies.types import MOVES, TONES, DialogueState, Move, Policy, Tone, ToneDirective

__all__ = [
    "MOVES",
    "TONES",
    "Condition",
    "DialogueState",
    "Move",
    "Policy",
    "Profile",
    "Rule",
    "Tone",
    "ToneDirective",
    "load_profile",
    "shipped_profiles",
]
