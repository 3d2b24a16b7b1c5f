"""The operators' view end to end: a real broker, a real worker, a real browser.

Frames with faults go in; the dashboard (headless Chromium, Debian's package driven by
Playwright) must show the flagged frame's thumbnail, and an alert published while the page is
open must appear without a reload. ``/metrics`` must have counted it all, and
``framegate status`` must tell the same story in the terminal.

Set ``FRAMEGATE_DASHBOARD_SCREENSHOT=docs/dashboard.png`` to refresh the README's picture.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from framegate.schemas import Alert
from tests.factories import T0, frame_bytes, jittered, jpeg, photo
from tests.integration.conftest import _publish

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "s3cret-operator-token"
FRAMES_PER_CAMERA = 30


def _fleet() -> list[tuple[bytes, bytes]]:
    """Three cameras, one frame a second each: a dark frame, a blurred one, a dimming scene."""
    messages = []
    for index in range(FRAMES_PER_CAMERA):
        at = {"captured_at": (T0 + timedelta(seconds=index)).isoformat()}
        astronaut = jittered(photo("astronaut"), index)
        if index == 12:
            astronaut = (photo("astronaut") * 0.05).astype(np.uint8)
        coffee = jittered(photo("coffee"), 100 + index)
        if index >= 18:
            coffee = (coffee * 0.55).astype(np.uint8)
        cat = jittered(photo("chelsea"), 200 + index)
        if index == 20:
            cat = cv2.GaussianBlur(cat, (0, 0), 8)
        for camera, pixels in (("cam-1", astronaut), ("cam-2", coffee), ("cam-3", cat)):
            messages.append((camera.encode(), frame_bytes(camera, index, data=jpeg(pixels), **at)))
    return messages


def _get(url: str, token: str | None = TOKEN) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _wait_for(predicate, timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{log.read_text()[-6000:]}")


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def _browse(base: str, settings, alert: Alert, screenshot: Path) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1360, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            # Once with the token in the address: it becomes a cookie, and the page reloads
            # itself at "/" without it.
            await page.goto(f"{base}/?access_token={TOKEN}")
            assert page.url == f"{base}/"
            await page.wait_for_selector("#live.on", timeout=20_000)

            dark = page.locator('.thumb[data-frame="cam-1:000012"]')
            await dark.locator("img").wait_for(timeout=30_000)
            await page.wait_for_function(
                "document.querySelector('.thumb[data-frame=\"cam-1:000012\"] img')"
                ".naturalWidth === 160",
                timeout=10_000,
            )
            reasons = await dark.locator(".badge").all_inner_texts()
            assert any(reason.startswith("dark") for reason in reasons), reasons
            await page.wait_for_selector('#issues .bar[data-check="dark"]')
            await page.wait_for_selector('#cameras tr[data-camera="cam-3"]')

            # The alert arrives while the page is open: no navigation may happen.
            await page.evaluate("window.__sameDocument = true")
            await _publish(settings, "alerts", [(b"cam-2", alert.model_dump_json().encode())])
            await page.wait_for_selector(
                f'#alerts li[data-alert="{alert.alert_id}"]', timeout=20_000
            )
            assert await page.evaluate("window.__sameDocument === true")
            await page.wait_for_selector(
                f'.chart[data-camera="cam-2"] line.marker[data-alert="{alert.alert_id}"]',
                state="attached",
                timeout=20_000,
            )
            await page.wait_for_function(
                "Number(document.getElementById('ov-alerts').textContent) >= 1", timeout=10_000
            )
            await page.wait_for_timeout(500)  # let the flash animation settle for the picture
            await page.screenshot(path=str(screenshot))
            return {
                "errors": errors,
                "alert_text": await page.locator(
                    f'#alerts li[data-alert="{alert.alert_id}"]'
                ).inner_text(),
            }
        finally:
            await browser.close()


def test_dashboard_shows_flagged_frames_and_live_alerts(gate_factory, tmp_path):
    pytest.importorskip("playwright.async_api")
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    gate = gate_factory(web_token=TOKEN, embedder="none")
    gate.start()
    base = f"http://127.0.0.1:{gate.settings.web_port}"

    # Without the token nothing but the static assets answers.
    assert _get(f"{base}/api/fleet", token=None)[0] == 401
    assert _get(f"{base}/metrics", token="wrong")[0] == 401
    assert _get(f"{base}/static/app.js", token=None)[0] == 200
    assert _get(f"{base}/healthz", token=None)[0] == 200

    messages = _fleet()
    gate.publish("frames", messages)

    last: dict = {}

    def caught_up() -> dict | None:
        status, body = _get(f"{base}/api/fleet")
        overview = json.loads(body) if status == 200 else {}
        done = overview.get("fleet", {}).get("frames_total", 0) >= len(messages)
        last["overview"] = overview
        return overview if done and overview["fleet"]["relabel_total"] else None

    overview = _wait_for(caught_up, 120, "the dashboard to see every report", gate.log)
    assert overview["fleet"]["cameras"] == 3
    assert overview["fleet"]["issue_share"]["dark"] > 0

    alert = Alert(
        alert_id="drift-cam-2-brightness-1",
        kind="drift",
        camera_id="cam-2",
        metric="brightness",
        detector="page_hinkley",
        at=T0 + timedelta(seconds=19),
        frame_id="cam-2:000019",
        before={"mean": 0.45},
        after={"mean": 0.25},
        severity="warning",
        detail="brightness fell from 0.45 to 0.25",
    )
    screenshot = tmp_path / "dashboard.png"
    seen = asyncio.run(_browse(base, gate.settings, alert, screenshot))
    assert seen["errors"] == []
    assert "cam-2" in seen["alert_text"] and "brightness" in seen["alert_text"]
    if target := os.environ.get("FRAMEGATE_DASHBOARD_SCREENSHOT"):
        from PIL import Image

        with Image.open(screenshot) as picture:  # a palette keeps the README's picture small
            picture.convert("RGB").quantize(colors=96).save(target, optimize=True)

    status, text = _get(f"{base}/metrics")
    assert status == 200
    samples = _samples(text)
    for camera in ("cam-1", "cam-2", "cam-3"):
        assert (
            samples[("framegate_frames_processed_total", (("camera", camera),))]
            == FRAMES_PER_CAMERA
        )
    assert (
        sum(
            value
            for (name, labels), value in samples.items()
            if name == "framegate_issues_total" and ("check", "dark") in labels
        )
        >= 1
    )
    assert samples[("framegate_relabel_requests_total", ())] == overview["fleet"]["relabel_total"]
    assert samples[("framegate_processing_latency_seconds_count", ())] == len(messages)
    assert samples[("framegate_batch_size_sum", ())] == len(messages)
    # The embedded broker's end offsets cannot be trusted: no lag gauge rather than a wrong one.
    assert not any(name == "framegate_consumer_lag" for name, _ in samples)

    summary = subprocess.run(
        [sys.executable, "-m", "framegate", "status"],
        env=gate.env,
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    ).stdout
    assert "fleet: 3 cameras" in summary
    assert "open alerts:" in summary and "drift cam-2 brightness (page_hinkley)" in summary
    assert any(line.startswith("cam-1") for line in summary.splitlines())
    # The dark frame also trips other checks at the same share; the fleet line lists them all.
    assert any(
        line.strip().startswith("issues by check:") and "dark" in line
        for line in summary.splitlines()
    )
