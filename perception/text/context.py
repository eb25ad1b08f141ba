"""Dialogue context: an utterance is read with the turns before it, not alone.

Two effects are modelled, each as a log-linear prior added to the utterance's own emotion log-probabilities:

* carry-over: people stay in a state for a while, so the speaker's own recent emotions (a decayed mean over
  their last turns) pull the reading towards them (weight ``carry``);
* reaction: a turn answers the other side, so the other speaker's last emotion shifts it (weight ``react``).

Both priors count in proportion to the turn's own doubt, ``2 * (1 - max p)``: context fills in when the words
alone say little ("Okay.") and barely moves a turn that speaks for itself, which also keeps it from duplicating the
fuser's own smoothing over time. The weights are fitted on dialogue data by the training script.
``DialogueContext`` keeps a bounded history per dialogue, so memory stays constant however long a session runs.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from empathic.perception.text.heads import log_softmax

DECAY = 0.5
"""Weight of the older state when a speaker's new turn is folded in: the last two or three turns matter most."""
_FLOOR = 1e-3
"""Probabilities are floored before the log so one confident earlier turn cannot veto a label outright."""


@dataclass(frozen=True, slots=True)
class ContextTurn:
    """What the history keeps of one turn: who spoke and the emotion distribution read from it alone."""

    speaker: str
    probs: np.ndarray


class DialogueContext:
    """Bounded history of one dialogue's turns (user and agent), and the context-adjusted reading of a new one."""

    def __init__(self, carry: float, react: float, max_turns: int = 8) -> None:
        if max_turns < 1:
            raise ValueError(f"max_turns must be >= 1, got {max_turns}")
        self.carry = carry
        self.react = react
        self._turns: deque[ContextTurn] = deque(maxlen=max_turns)

    def __len__(self) -> int:
        return len(self._turns)

    def clear(self) -> None:
        self._turns.clear()

    def own_state(self, speaker: str) -> np.ndarray | None:
        """Decayed mean of the speaker's own recent distributions, oldest first; None when they have not spoken."""
        state: np.ndarray | None = None
        for turn in self._turns:
            if turn.speaker == speaker:
                state = turn.probs if state is None else DECAY * state + (1 - DECAY) * turn.probs
        return state

    def other_last(self, speaker: str) -> np.ndarray | None:
        """The other side's distribution when the turn just before came from someone else."""
        if self._turns and self._turns[-1].speaker != speaker:
            return self._turns[-1].probs
        return None

    def read(self, speaker: str, log_probs: np.ndarray) -> np.ndarray:
        """Context-adjusted probabilities for a new turn whose own reading is ``log_probs`` (7,)."""
        adjusted = log_probs.astype(np.float64)
        doubt = 2.0 * (1.0 - float(np.exp(log_probs.max())))
        own = self.own_state(speaker)
        if own is not None:
            adjusted = adjusted + doubt * self.carry * np.log(own + _FLOOR)
        other = self.other_last(speaker)
        if other is not None:
            adjusted = adjusted + doubt * self.react * np.log(other + _FLOOR)
        return np.exp(log_softmax(adjusted))

    def add(self, speaker: str, log_probs: np.ndarray) -> None:
        """Remember a turn by its context-free reading (so errors do not compound through the history)."""
        self._turns.append(ContextTurn(speaker, np.exp(log_probs)))
