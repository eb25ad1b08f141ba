"""One device setting for every model: ``auto`` is the CPU on a machine without a GPU, ``cuda`` there is an error."""

import pytest
from empathic.perception import ModelError, device
from empathic.perception.text.embedder import MiniLMEmbedder


def test_auto_is_the_default_and_means_the_cpu_without_a_gpu(monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.delenv(device.VARIABLE, raising=False)
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: auto means cuda here")
    assert device.configured() == "auto"
    assert device.torch_device() == "cpu"
    assert device.ctranslate2_device() == ("cpu", "int8")
    assert device.onnx_providers() == ["CPUExecutionProvider"]


def test_cuda_without_a_gpu_is_an_error_not_a_fallback(monkeypatch):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    monkeypatch.setenv(device.VARIABLE, "cpu")  # restored after the test
    device.use("cuda")
    with pytest.raises(RuntimeError, match="no usable CUDA GPU"):
        device.torch_device()
    with pytest.raises(RuntimeError, match="CTranslate2"):
        device.ctranslate2_device()


@pytest.mark.parametrize("value", ["gpu", "tpu", "cuda:0"])
def test_unknown_devices_are_refused(monkeypatch, value):
    monkeypatch.setenv(device.VARIABLE, value)
    with pytest.raises(ValueError, match="EMPATHIC_DEVICE must be one of"):
        device.configured()
    with pytest.raises(ValueError, match="device must be one of"):
        device.use(value)  # type: ignore[arg-type]


def test_the_text_encoder_runs_where_the_setting_says(monkeypatch):
    monkeypatch.setenv(device.VARIABLE, "cpu")
    embedder = MiniLMEmbedder()
    try:
        _ = embedder.model_dir
    except ModelError:
        pytest.skip("MiniLM not fetched")
    model, _tok = embedder._load()
    assert model.device == "cpu"
    assert embedder.encode(["hello there"]).shape == (1, 384)
