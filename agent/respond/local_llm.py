"""The embedded offline chat model: SmolLM2-135M-Instruct from the model registry as a LangChain ``BaseChatModel``,
through CTranslate2 (int8, converted by ``empathic models fetch smollm2-135m-instruct-ct2``), llama-cpp-python (the
``[llamacpp]`` extra) or transformers (the GGUF itself, dequantised).

Every runtime runs generation in a worker thread and hands text over through a :class:`TokenPipe`, so a consumer
that stops reading (the reply gate at a length limit, a timeout) stops the model after its current token instead of
letting it run on. Each reuses what it can of the last prompt: transformers and llama.cpp the longest shared prefix
(system prompt and earlier turns), CTranslate2 the fixed system prompt (its ``static_prompt`` cache), which is what
keeps the first token fast on a CPU.
"""

from __future__ import annotations

import asyncio
import importlib.util
import queue
import threading
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from empathic.perception._optional import require
from empathic.perception.device import torch_device
from empathic.perception.registry import ModelRegistry, default_registry
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

EMBEDDED_MODEL_ID = "smollm2-135m-instruct"
CONVERTED_MODEL_ID = "smollm2-135m-instruct-ct2"
Runtime = Literal["auto", "ctranslate2", "transformers", "llamacpp"]
_END = object()
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class TokenPipe:
    """Runs a blocking token producer in a thread; sync or async consumers read its text.

    Not a daemon thread: interpreter exit waits for the (stopped) producer instead of killing it inside a kernel.
    """

    def __init__(self, produce: Callable[[TokenPipe], None]) -> None:
        self._queue: queue.Queue[object] = queue.Queue()
        self.stopped = threading.Event()
        self._error: BaseException | None = None
        threading.Thread(target=self._run, args=(produce,)).start()

    def _run(self, produce: Callable[[TokenPipe], None]) -> None:
        try:
            produce(self)
        except Exception as exc:  # handed to the consumer, which raises it in its own thread
            self._error = exc
        finally:
            self._queue.put(_END)

    def put(self, text: str) -> None:
        if text:
            self._queue.put(text)

    def stop(self) -> None:
        self.stopped.set()

    def __iter__(self) -> Iterator[str]:
        while (item := self._queue.get()) is not _END:
            yield str(item)
        if self._error is not None:
            raise self._error

    async def aiter(self) -> AsyncIterator[str]:
        while (item := await asyncio.to_thread(self._queue.get)) is not _END:
            yield str(item)
        if self._error is not None:
            raise self._error


def as_dicts(messages: list[BaseMessage]) -> list[dict[str, str]]:
    return [{"role": _ROLES.get(m.type, "user"), "content": m.text} for m in messages]


class PipedChatModel(BaseChatModel):
    """A chat model whose subclasses only say how to produce tokens into a :class:`TokenPipe`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    max_new_tokens: int = 64
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @abstractmethod
    def produce(self, messages: list[BaseMessage], pipe: TokenPipe) -> None:
        """Generate a reply to ``messages``, putting text into ``pipe`` until done or ``pipe.stopped``."""

    def _pipe(self, messages: list[BaseMessage]) -> TokenPipe:
        def locked(pipe: TokenPipe) -> None:
            with self._lock:  # one generation at a time: the model and its prefix cache are not shareable
                self.produce(messages, pipe)

        return TokenPipe(locked)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        pipe = self._pipe(messages)
        try:
            for text in pipe:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                if run_manager:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk
        finally:
            pipe.stop()

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        pipe = self._pipe(messages)
        try:
            async for text in pipe.aiter():
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                if run_manager:
                    await run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk
        finally:
            pipe.stop()

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(c.text for c in self._stream(messages, stop, run_manager))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


class TransformersChatModel(PipedChatModel):
    """A GGUF chat model through transformers (dequantised to float32 on load; pure PyTorch, no extra)."""

    path: Path
    threads: int = 1
    """PyTorch threads. One: on a small CPU shared with the face and speech models, OpenMP's extra threads wait
    more than they work (measured on 2 busy cores: a 164-token prefill took 7.8 s on 2 threads, 0.6 s on 1)."""
    _model: Any = PrivateAttr()
    _tokenizer: Any = PrivateAttr()
    _cache: Any = PrivateAttr(default=None)
    _cached_ids: list[int] = PrivateAttr(default_factory=list)

    def model_post_init(self, _context: Any) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch.set_num_threads(self.threads)

        folder, name = str(self.path.parent), self.path.name
        self._tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        self._model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name).to(torch_device()).eval()

    @property
    def _llm_type(self) -> str:
        return "transformers-gguf"

    def produce(self, messages: list[BaseMessage], pipe: TokenPipe) -> None:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextStreamer

        class Streamer(TextStreamer):
            def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
                pipe.put(text)

        class Stopped(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.full((input_ids.shape[0],), pipe.stopped.is_set(), dtype=torch.bool)

        ids: list[int] = self._tokenizer.apply_chat_template(
            as_dicts(messages), add_generation_prompt=True, tokenize=True, return_dict=False
        )
        cache = self._reusable_cache(ids)
        with torch.inference_mode():
            out = self._model.generate(
                input_ids=torch.tensor([ids], device=self._model.device),
                attention_mask=torch.ones(1, len(ids), dtype=torch.long, device=self._model.device),
                cache=cache,
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                repetition_penalty=1.1,
                streamer=Streamer(self._tokenizer, skip_prompt=True, skip_special_tokens=True),
                stopping_criteria=StoppingCriteriaList([Stopped()]),
                pad_token_id=self._tokenizer.eos_token_id,
                return_dict_in_generate=True,
            )
        self._cache = cache
        self._cached_ids = out.sequences[0, : cache.get_seq_length()].tolist()

    def _reusable_cache(self, ids: list[int]) -> Any:
        """Last call's cache cut back to the prefix it shares with ``ids`` (at least one new token must remain)."""
        from transformers import DynamicCache

        shared = 0
        for a, b in zip(self._cached_ids, ids, strict=False):
            if a != b:
                break
            shared += 1
        shared = min(shared, len(ids) - 1)
        if self._cache is None or shared <= 0:
            return DynamicCache(config=self._model.config)
        surplus = self._cache.get_seq_length() - shared
        if surplus:
            self._cache.crop(-surplus)
        return self._cache


class LlamaCppChatModel(PipedChatModel):
    """A GGUF chat model through llama-cpp-python (``empathic[llamacpp]``): about 6x faster than transformers on CPU.

    llama.cpp keeps the previous prompt's tokens and evaluates only what differs, so prefix caching is built in.
    """

    path: Path
    n_ctx: int = 2048
    _llama: Any = PrivateAttr()

    def model_post_init(self, _context: Any) -> None:
        llama_cpp = require("llama_cpp", "llamacpp", "the fast embedded chat model")
        gpu_layers = -1 if torch_device() == "cuda" else 0  # a CPU build of llama.cpp ignores it
        self._llama = llama_cpp.Llama(
            model_path=str(self.path), n_ctx=self.n_ctx, n_gpu_layers=gpu_layers, verbose=False
        )

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    def produce(self, messages: list[BaseMessage], pipe: TokenPipe) -> None:
        stream = self._llama.create_chat_completion(
            as_dicts(messages), stream=True, max_tokens=self.max_new_tokens, temperature=0.0, repeat_penalty=1.1
        )
        for part in stream:
            if pipe.stopped.is_set():
                break
            pipe.put(part["choices"][0]["delta"].get("content") or "")


class CTranslate2ChatModel(PipedChatModel):
    """A chat model converted to CTranslate2 int8: about 4x faster to the first token than transformers on CPU.

    The first system message (the fixed rules) is CTranslate2's ``static_prompt``: its state is computed once per
    distinct text and reused, so each turn only evaluates the history, the turn's directive and the user's words.
    """

    path: Path
    threads: int = 1
    """Intra-op threads. Unlike PyTorch's, two help on two cores: the per-turn prompt is computed faster (the
    settings default to ``min(2, cores)``)."""
    _generator: Any = PrivateAttr()
    _tokenizer: Any = PrivateAttr()

    def model_post_init(self, _context: Any) -> None:
        import ctranslate2
        from transformers import AutoTokenizer

        self._generator = ctranslate2.Generator(
            str(self.path), device="cpu", compute_type="int8", intra_threads=self.threads
        )
        self._tokenizer = AutoTokenizer.from_pretrained(str(self.path))

    @property
    def _llm_type(self) -> str:
        return "ctranslate2"

    def split_prompt(self, messages: list[BaseMessage]) -> tuple[list[str], list[str]]:
        """``(static, rest)`` prompt tokens: the leading system message's tokens when the chat template renders it
        as a prefix of the whole prompt, else nothing static."""
        chat = as_dicts(messages)
        ids = self._tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=True, return_dict=False)
        static: list[int] = []
        if len(chat) > 1 and chat[0]["role"] == "system":
            head = self._tokenizer.apply_chat_template(chat[:1], tokenize=True, return_dict=False)
            static = head if ids[: len(head)] == head and len(head) < len(ids) else []
        tokens = self._tokenizer.convert_ids_to_tokens(ids)
        return tokens[: len(static)], tokens[len(static) :]

    def produce(self, messages: list[BaseMessage], pipe: TokenPipe) -> None:
        static, rest = self.split_prompt(messages)
        steps = self._generator.generate_tokens(
            rest,
            max_length=self.max_new_tokens,
            sampling_topk=1,
            repetition_penalty=1.1,
            end_token=[self._tokenizer.eos_token],
            static_prompt=static or None,
            callback=lambda _step: pipe.stopped.is_set(),  # True stops CTranslate2 after this token
        )
        ids: list[int] = []
        shown = ""
        for step in steps:
            ids.append(step.token_id)
            text = self._tokenizer.decode(ids, skip_special_tokens=True)
            if not text.endswith("\ufffd"):  # wait for the rest of a multi-byte character
                pipe.put(text[len(shown) :])
                shown = text


def load_embedded_chat_model(
    runtime: Runtime = "auto", max_new_tokens: int = 64, threads: int = 1, registry: ModelRegistry | None = None
) -> PipedChatModel:
    """SmolLM2-135M-Instruct from the registry, through ``runtime`` (``threads``: CTranslate2's intra-op threads).

    ``auto`` takes llama-cpp-python when installed (an opt-in extra, the fastest), else CTranslate2 when the
    converted model is present (``empathic models fetch smollm2-135m-instruct-ct2``), else transformers.
    """
    registry = registry or default_registry()
    if runtime == "auto":
        runtime = (
            "llamacpp"
            if importlib.util.find_spec("llama_cpp")
            else "ctranslate2"
            if registry.status(CONVERTED_MODEL_ID) == "ok"
            else "transformers"
        )
    return RUNTIMES[runtime](registry, max_new_tokens, threads)


RUNTIMES: dict[str, Callable[[ModelRegistry, int, int], PipedChatModel]] = {
    "ctranslate2": lambda reg, n, threads: CTranslate2ChatModel(
        path=reg.resolve(CONVERTED_MODEL_ID), max_new_tokens=n, threads=threads
    ),
    "transformers": lambda reg, n, _: TransformersChatModel(path=reg.file(EMBEDDED_MODEL_ID), max_new_tokens=n),
    "llamacpp": lambda reg, n, _: LlamaCppChatModel(path=reg.file(EMBEDDED_MODEL_ID), max_new_tokens=n),
}
"""The embedded model's runtimes by name, each a factory over the registry, the token limit and the thread count
(CTranslate2's only); ``Runtime`` adds ``auto``, and the CLI's choices read both."""
