"""Micro-batching: many sessions' model calls of one kind served by one worker thread, a batch at a time.

A model that reads one item at a time pays its fixed cost (Python dispatch, a forward pass over a padded batch of
one) per session; one worker that takes whatever queued while the previous batch ran pays it once per batch. A lone
caller waits for no timer, a crowd shares the call, and one thread means one intra-op thread per model call, so the
event loop keeps a core. The batched function is a plain ``list -> list`` callable, so another runtime (Ray Serve's
``@serve.batch``) can wrap the same function.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class MicroBatcher(Generic[T, R]):
    """Calls ``fn`` on lists of at most ``max_batch`` items from any number of callers, in one daemon thread.

    ``fn`` must return one result per item, in order; if it raises, every caller of that batch gets the exception.
    """

    def __init__(self, fn: Callable[[list[T]], list[R]], *, max_batch: int = 32, name: str = "micro-batcher") -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        self.fn = fn
        self.max_batch = max_batch
        self.name = name
        self._queue: queue.SimpleQueue[tuple[T, Future[R]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, item: T) -> Future[R]:
        """Queue ``item``; the future holds its result once its batch ran."""
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
                self._thread.start()
        future: Future[R] = Future()
        self._queue.put((item, future))
        return future

    async def run(self, item: T) -> R:
        """``item``'s result, awaited without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(item))

    def run_sync(self, item: T) -> R:
        """``item``'s result, blocking the calling thread (never call it from the worker itself)."""
        return self.submit(item).result()

    def _work(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            live = [(item, f) for item, f in batch if f.set_running_or_notify_cancel()]
            if not live:
                continue
            try:
                results = self.fn([item for item, _ in live])
                if len(results) != len(live):
                    raise RuntimeError(f"{self.name}: {len(results)} results for {len(live)} items")
            except BaseException as exc:  # every waiting caller learns of it; the worker goes on
                for _, f in live:
                    f.set_exception(exc)
                continue
            for (_, f), result in zip(live, results, strict=True):
                f.set_result(result)


def single_threaded_models() -> None:
    """One intra-op thread per torch call: a server's parallelism comes from its sessions and its batches.

    On two cores, two intra-op threads per call from several worker threads oversubscribe the CPU; torch's threads
    then spin against each other and against the event loop (one short MiniLM call cost 14x the CPU time, measured).
    """
    import torch

    torch.set_num_threads(1)
