"""End to end in a real browser: Debian's Chromium, driven by Playwright, with a fake camera and microphone.

The camera plays a photo of a face (scikit-image's astronaut), the microphone a sentence spoken by espeak-ng, which
Chromium repeats in a loop. The test gives consent, starts both streams, and waits for a face-based estimate, the
spoken turn and a reply in the conversation, the reply heard aloud in the page (its player's
level), and the next repetition of the sentence cutting the reply off (barge-in); it saves a screenshot. Skipped
outside CI when Chromium or the media tools are missing.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from empathic.tooling.bench.browser import CHROMIUM
from empathic.tooling.bench.browser import FLAGS as HEADLESS

TOOLS = ("ffmpeg", "espeak-ng", "sox")
missing = [t for t in (CHROMIUM, *TOOLS) if not shutil.which(t)]
pytestmark = pytest.mark.skipif(bool(missing) and not os.environ.get("CI"), reason=f"missing {missing}")

FLAGS = [*HEADLESS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
         "--autoplay-policy=no-user-gesture-required"]  # fmt: skip


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    from PIL import Image
    from skimage import data

    d = tmp_path_factory.mktemp("media")
    Image.fromarray(data.astronaut()).save(d / "face.png")
    run = lambda *cmd: subprocess.run(cmd, check=True, capture_output=True)  # noqa: E731
    run("ffmpeg", "-v", "error", "-y", "-loop", "1", "-i", str(d / "face.png"), "-t", "6", "-r", "15",
        "-vf", "scale=640:480", "-pix_fmt", "yuv420p", str(d / "face.y4m"))  # fmt: skip
    run("espeak-ng", "-w", str(d / "s.wav"), "I am not sure I understand how this works.")
    run("sox", str(d / "s.wav"), "-r", "48000", "-c", "1", "-b", "16", str(d / "s48.wav"), "pad", "0.5", "2.5")
    return d


@pytest.fixture(scope="module")
def app_url():
    from empathic.ui.app import build_demo, serve_on_loopback

    demo = build_demo()
    yield serve_on_loopback(demo)
    demo.close()


def test_consent_stream_and_dashboard_in_chromium(media, app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    args = [*FLAGS, f"--use-file-for-fake-video-capture={media / 'face.y4m'}",
            f"--use-file-for-fake-audio-capture={media / 's48.wav'}"]  # fmt: skip
    shot = tmp_path / "demo.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_context(permissions=["camera", "microphone"], viewport={"width": 1400, "height": 1100})
        page = page.new_page()
        page.goto(app_url, wait_until="domcontentloaded")
        page.wait_for_selector("#consent-camera input", timeout=30_000)
        page.wait_for_timeout(1500)
        for channel in ("camera", "microphone", "text"):
            page.locator(f"#consent-{channel} input").check()
        expect(page.locator("#consent-status")).to_contain_text("camera, microphone, text", timeout=10_000)
        page.get_by_text("Click to Access Webcam").click()
        page.locator("#cam button[aria-label='capture photo']").click(timeout=20_000)
        expect(page.locator("#contributions")).to_contain_text("face", timeout=30_000)
        expect(page.locator("#emotion")).to_contain_text("%", timeout=10_000)
        page.locator("#mic").get_by_text("Record").click()
        expect(page.locator("#transcript textarea")).to_have_value(re.compile(r"understand", re.I), timeout=60_000)
        # the looping microphone may start mid-sentence, so an earlier turn can be a fragment
        spoken = page.locator("#chat [data-testid='user']", has_text="understand")
        expect(spoken.first).to_be_visible(timeout=30_000)
        expect(page.locator("#chat [data-testid='bot']").first).not_to_be_empty(timeout=30_000)
        expect(page.locator("#directive")).to_contain_text("Tone:", timeout=10_000)
        voice = "window.empathicVoice"
        page.wait_for_function(f"{voice}.peak > 0.02", timeout=30_000)  # the reply is heard: not silence
        assert page.evaluate(f"{voice}.micConstraints.echoCancellation") is True
        page.wait_for_function(f"{voice}.stops >= 1", timeout=60_000)  # the sentence again: barge-in stops it
        expect(page.locator("#chat")).to_contain_text("interrupted", timeout=10_000)
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert shot.stat().st_size > 10_000
    keep = os.environ.get("EMPATHIC_ARTIFACTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "demo.png")
