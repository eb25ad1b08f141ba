"""Where models run: one setting, ``EMPATHIC_DEVICE`` = ``cpu``, ``cuda`` or ``auto`` (the default), for every model.

Models are shared per process, so the device is a property of the process: set it before the first model loads
(``empathic serve --device``, or the variable itself; a Ray deployment with GPUs sets it in its replicas). ``auto``
means the GPU when the model's runtime can use one here, else the CPU; ``cuda`` without a usable GPU is an error,
not a silent fallback. Each runtime asks in its own terms: torch, CTranslate2 (faster-whisper), onnxruntime.
"""

from __future__ import annotations

import os
from typing import Any, Literal

Device = Literal["cpu", "cuda", "auto"]
DEVICES: tuple[Device, ...] = ("cpu", "cuda", "auto")
VARIABLE = "EMPATHIC_DEVICE"


def configured() -> Device:
    """The device setting of this process (``auto`` when unset)."""
    value = os.environ.get(VARIABLE, "auto").strip().lower() or "auto"
    if value not in DEVICES:
        raise ValueError(f"{VARIABLE} must be one of {list(DEVICES)}, got {value!r}")
    return value  # type: ignore[return-value]


def use(device: Device) -> None:
    """Set the device for this process and the processes it starts."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {list(DEVICES)}, got {device!r}")
    os.environ[VARIABLE] = device


def _pick(has_gpu: bool, runtime: str) -> Literal["cpu", "cuda"]:
    device = configured()
    if device == "auto":
        return "cuda" if has_gpu else "cpu"
    if device == "cuda" and not has_gpu:
        raise RuntimeError(f"{VARIABLE}=cuda but {runtime} sees no usable CUDA GPU here; use cpu or auto")
    return device


def torch_device() -> Literal["cpu", "cuda"]:
    """The device for torch models (the MiniLM encoder, Hugging Face classifiers and ASR, the embedded LLM)."""
    import torch

    return _pick(torch.cuda.is_available(), "torch")


def ctranslate2_device() -> tuple[Literal["cpu", "cuda"], str]:
    """Device and compute type for CTranslate2 models (faster-whisper): int8 on the CPU, int8 weights with float16
    arithmetic on a GPU."""
    import ctranslate2

    device = _pick(ctranslate2.get_cuda_device_count() > 0, "CTranslate2")
    return device, "int8" if device == "cpu" else "int8_float16"


def onnx_providers() -> list[str]:
    """onnxruntime execution providers, the GPU's first when it is chosen (the CPU stays as the fallback for
    operators the GPU provider lacks)."""
    import onnxruntime as ort

    device = _pick("CUDAExecutionProvider" in ort.get_available_providers(), "onnxruntime")
    return ["CUDAExecutionProvider", "CPUExecutionProvider"] if device == "cuda" else ["CPUExecutionProvider"]


def onnx_session(path: str | os.PathLike[str], *, threads: int = 1, gpu: bool = False) -> Any:
    """An onnxruntime session with ``threads`` intra-op threads (one by default: a server's parallelism comes from its
    sessions and batches) and telemetry off (nothing about this machine is queued for anyone). ``gpu``: on
    :func:`onnx_providers` (models that gain from a GPU), else on the CPU."""
    import onnxruntime as ort

    ort.disable_telemetry_events()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    providers = onnx_providers() if gpu else ["CPUExecutionProvider"]
    return ort.InferenceSession(str(path), sess_options=options, providers=providers)
