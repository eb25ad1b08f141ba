"""The perceiver seam: one observation in, at most one :class:`ModalityEstimate` out.

Perceivers hold models, so they are built once and reused. Blocking model calls run in a worker thread
(:class:`BlockingPerceiver`) so the event loop keeps taking media while a model runs.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from empathic.perception.estimates import ModalityEstimate
from empathic.perception.modalities import modality
from empathic.perception.observations import Observation


@dataclass(frozen=True, slots=True)
class PerceiverCapabilities:
    """What a perceiver consumes and produces.

    ``accepts`` lists the observation types it reads; ``max_rate_hz`` is the most observations per media second it
    wants (the session skips the rest; 0 means every one); ``commercial_use`` is False when its weights forbid it.
    """

    modality: str
    accepts: tuple[type, ...]
    max_rate_hz: float = 0.0
    commercial_use: bool = True

    def __post_init__(self) -> None:
        modality(self.modality)  # an undeclared modality fails here, not as a perceiver the session never calls


@runtime_checkable
class Perceiver(Protocol):
    name: str
    capabilities: PerceiverCapabilities

    async def perceive(self, obs: Observation) -> ModalityEstimate | None:
        """Read one observation; None when it says nothing new (e.g. an agent turn)."""
        ...


class BlockingPerceiver(ABC):
    """Base for perceivers whose model call blocks: ``predict`` runs in a worker thread."""

    name: str
    capabilities: PerceiverCapabilities

    @abstractmethod
    def predict(self, obs: Observation) -> ModalityEstimate | None:
        """Synchronous model call."""

    async def perceive(self, obs: Observation) -> ModalityEstimate | None:
        return await asyncio.to_thread(self.predict, obs)
