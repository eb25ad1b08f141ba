"""``empathic bench browser``: turn end to the first reply text shown in a real browser.

It serves the demo on loopback, drives Debian's Chromium with Playwright, gives consent for words, and for each
turn measures from pressing Enter to the first non-empty assistant message in the page (polled every 10 ms). The
first turn warms the models up and is not counted.
"""

from __future__ import annotations

import time
from typing import Any

from empathic.agent import Settings
from empathic.agent.respond.llm_config import LLMSettings
from empathic.agent.session.latency import latency_summary
from empathic.ui.app import build_demo, serve_on_loopback

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
"""Headless Chromium on a closed network: no background connections, no first-run or update chatter."""
TURNS = (
    "Hi, my parcel has not arrived yet.",
    "It was due on Monday and nobody answers my emails.",
    "This is really frustrating, I need it for work.",
    "Can you tell me when it will come?",
    "Okay, thank you.",
    "Is there anything else I should do?",
)
_SHOWN = """n => {
  const bots = [...document.querySelectorAll("#chat [data-testid='bot']")].filter(e => e.innerText.trim());
  return bots.length > n;
}"""
_LAST = """() => {
  const bots = [...document.querySelectorAll("#chat [data-testid='bot']")];
  return bots.length ? bots[bots.length - 1].innerText : "";
}"""
_COUNT = "() => [...document.querySelectorAll(\"#chat [data-testid='bot']\")].filter(e => e.innerText.trim()).length"


def _until_finished(page: Any, quiet_s: float = 1.0) -> None:
    """Wait until the last reply has not changed for ``quiet_s`` before the next turn (a fixed 3 s often sent it while
    an LLM reply was still streaming). An LLM pausing longer than that between sentences still lets the next turn in
    early; that turn then waits for the rest of the reply, and its time says so."""
    text, since = None, time.perf_counter()
    while time.perf_counter() - since < quiet_s:
        now = page.evaluate(_LAST)
        if now != text:
            text, since = now, time.perf_counter()
        page.wait_for_timeout(50)


def bench_browser(turns: int = 5, responder: str = "llm", chat_model: str = "embedded") -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    settings = Settings(responder=responder, llm=LLMSettings(chat_model=chat_model))
    demo = build_demo(settings=settings)
    url = serve_on_loopback(demo)
    latencies: list[float] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page()
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_selector("#consent-text input", timeout=30_000)
            page.wait_for_timeout(1500)
            page.locator("#consent-text input").check()
            page.wait_for_timeout(500)
            box = page.locator("#msg textarea")
            for i in range(turns + 1):
                shown = page.evaluate(_COUNT)
                box.fill(TURNS[i % len(TURNS)])
                start = time.perf_counter()
                box.press("Enter")
                page.wait_for_function(_SHOWN, arg=shown, polling=10, timeout=120_000)
                if i:  # the first turn loads the models
                    latencies.append(time.perf_counter() - start)
                _until_finished(page)
            browser.close()
    finally:
        demo.close()
    return {
        "bench": "browser",
        "responder": responder,
        "chat_model": chat_model if responder == "llm" else None,
        "turns": len(latencies),
        "turn_end_to_first_reply_text": latency_summary(latencies),
    }
