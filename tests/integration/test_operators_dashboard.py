"""The operators' dashboard in a real browser, on two real workers: liveness, the frame
inspector, the explorer, and actions whose audit trail every worker's dashboard shows.

A flagged frame with ground truth and predicted boxes is put on the relabel topic (the
worker's own requests carry no annotations); the rest comes from frames the workers check.
Set ``FRAMEGATE_OPERATOR_SCREENSHOTS=docs`` to refresh the README's inspector and explorer
pictures.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from framegate.schemas import Alert, FrameImage, Issue, Prediction, RelabelRequest
from tests.factories import T0, jittered, jpeg, photo
from tests.integration.conftest import _publish
from tests.integration.test_dashboard import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TOKEN,
    _fleet,
    _get,
    _wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

GROUND_TRUTH = [
    {"label": "person", "box": [250, 40, 420, 470]},
    {"label": "rocket", "box": [20, 20, 120, 200]},
]
INSPECTED = "inspect-cam-1-15"


def _inspected_request() -> bytes:
    request = RelabelRequest(
        request_id=INSPECTED,
        frame_id="cam-1:000015",  # a frame the workers report on: its metrics are known
        camera_id="cam-1",
        captured_at=T0 + timedelta(seconds=15),
        image=FrameImage(data=base64.b64encode(jpeg(jittered(photo("astronaut"), 15))).decode()),
        reasons=[
            Issue(
                check="label_disagreement",
                score=0.8,
                threshold=0.5,
                severity="warning",
                detail="'rocket' is labelled where the model sees 'cat'",
            )
        ],
        priority=0.8,
        prediction=Prediction(
            frame_id="cam-1:000015",
            camera_id="cam-1",
            model="detector-v3",
            detections=[
                {"label": "person", "score": 0.91, "box": [245, 50, 430, 465]},
                {"label": "cat", "score": 0.4, "box": [30, 30, 110, 190]},
            ],
        ),
    )
    document = json.loads(request.model_dump_json())
    document["annotations"] = GROUND_TRUTH
    return json.dumps(document).encode()


ALERT = Alert(
    alert_id="drift-cam-2-brightness-ack",
    kind="drift",
    camera_id="cam-2",
    metric="brightness",
    detector="page_hinkley",
    at=T0 + timedelta(seconds=19),
    severity="warning",
    detail="brightness fell from 0.45 to 0.25",
)


async def _texts(page, selector: str, attribute: str) -> list[str]:
    return await page.locator(selector).evaluate_all(
        f"nodes => nodes.map(n => n.getAttribute('{attribute}'))"
    )


async def _login(page, base: str) -> None:
    await page.goto(f"{base}/?access_token={TOKEN}")
    await page.wait_for_selector("#live.on", timeout=20_000)


async def _browse(first: str, second: str, settings, shots: Path) -> dict:
    from playwright.async_api import async_playwright

    seen: dict = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
            await _login(page, first)

            # liveness per camera
            row = page.locator('#cameras tr[data-camera="cam-1"]')
            await row.wait_for(timeout=20_000)
            seen["age"] = await row.locator("td.age").inner_text()
            seen["lag"] = await row.locator("td.lag").inner_text()

            # the inspector: the frame, both kinds of boxes, metrics, neighbours
            card = page.locator(f'#results .result[data-request-id="{INSPECTED}"]')
            await card.wait_for(timeout=30_000)
            await card.click()
            await page.wait_for_selector("#inspector[open] #i-svg g.box", timeout=10_000)
            seen["annotations"] = await _texts(page, "#i-svg g.box.annotation", "data-label")
            seen["predictions"] = await _texts(page, "#i-svg g.box.prediction", "data-label")
            seen["rects"] = await page.locator("#i-svg g.box > rect:first-child").count()
            seen["image"] = await page.locator("#i-svg image").get_attribute("href")
            seen["image_status"] = await page.evaluate(
                f"fetch('api/frames/{INSPECTED}.jpg').then(r => r.status)"
            )
            seen["issues"] = await page.locator("#i-issues li[data-check]").all_inner_texts()
            seen["metrics"] = await _texts(page, "#i-metrics tr[data-metric]", "data-metric")
            seen["usual"] = await page.locator("#i-metrics td.usual").all_inner_texts()
            seen["neighbours"] = await page.locator("#i-neighbours a").all_inner_texts()
            await page.screenshot(path=str(shots / "inspector.png"))
            await page.click("#i-close")

            # the explorer: filters narrow what is shown
            results = page.locator("#results .result")
            seen["all"] = await results.count()
            await page.select_option("#f-camera", "cam-1")
            await page.wait_for_selector("#distribution .bar[data-kind='gt']", timeout=10_000)
            seen["cam1"] = await _texts(page, "#results .result", "data-frame")
            seen["labels"] = await _texts(page, "#distribution .bar[data-kind='gt']", "data-label")
            seen["predicted"] = await _texts(
                page, "#distribution .bar[data-kind='pred']", "data-label"
            )
            await page.select_option("#f-check", "label_disagreement")
            await page.wait_for_function(
                "document.querySelectorAll('#results .result').length === 1", timeout=10_000
            )
            seen["checked"] = await _texts(page, "#results .result", "data-request-id")
            await page.fill("#f-since", "2026-11-28T15:00:16")
            await page.dispatch_event("#f-since", "change")
            await page.wait_for_selector("#results .empty", timeout=10_000)
            await page.fill("#f-since", "")
            await page.select_option("#f-check", "")
            await page.wait_for_function(
                "document.querySelectorAll('#results .result').length >= 2", timeout=10_000
            )
            await page.locator("#f-since").blur()
            await page.locator("#explorer").screenshot(path=str(shots / "explorer.png"))

            # actions: acknowledge an alert, mute a check, re-baseline a camera
            await _publish(settings, "alerts", [(b"cam-2", ALERT.model_dump_json().encode())])
            item = page.locator(f'#alerts li[data-alert="{ALERT.alert_id}"]')
            await item.locator("button.ack").click()
            await page.wait_for_selector(
                f'#alerts li.acknowledged[data-alert="{ALERT.alert_id}"]', timeout=30_000
            )
            await row.locator("select.mute-check").select_option("camera_offline")
            await row.locator("button.mute").click()
            await row.locator("button.rebaseline").click()
            for kind in ("acknowledge", "mute", "rebaseline"):
                await page.wait_for_selector(
                    f'#audit li.applied[data-kind="{kind}"]', timeout=30_000
                )

            await page.reload()
            await page.wait_for_selector("#live.on", timeout=20_000)
            await page.wait_for_selector(
                f'#alerts li.acknowledged[data-alert="{ALERT.alert_id}"]', timeout=10_000
            )
            seen["after_reload"] = await item.inner_text()

            other = await browser.new_page(viewport={"width": 1400, "height": 1000})
            other.on("pageerror", lambda exc: errors.append(str(exc)))
            await _login(other, second)
            acked = other.locator(f'#alerts li.acknowledged[data-alert="{ALERT.alert_id}"]')
            await acked.wait_for(timeout=30_000)
            seen["second"] = await acked.inner_text()
            seen["second_audit"] = await _texts(other, "#audit li.applied", "data-kind")
            seen["errors"] = errors
        finally:
            await browser.close()
    return seen


def test_inspector_explorer_and_audited_actions_on_two_workers(gate_factory, tmp_path):
    pytest.importorskip("playwright.async_api")
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    first = gate_factory(web_token=TOKEN, embedder="none")
    first.start()
    second = gate_factory(
        prefix=first.settings.topic_prefix,
        consumer_group=first.settings.consumer_group,
        web_token=TOKEN,
        embedder="none",
    )
    second.start()
    messages = _fleet()
    first.publish("frames", messages)
    first.publish("relabel", [(b"cam-1", _inspected_request())])
    bases = [f"http://127.0.0.1:{g.settings.web_port}" for g in (first, second)]

    def caught_up() -> bool:
        for base in bases:
            status, body = _get(f"{base}/api/fleet")
            fleet = json.loads(body)["fleet"] if status == 200 else {}
            if fleet.get("frames_total", 0) < len(messages) or fleet["relabel_total"] < 2:
                return False
        return True

    _wait_for(caught_up, 150, "both dashboards to see every report", first.log)
    seen = asyncio.run(_browse(*bases, first.settings, tmp_path))
    if target := os.environ.get("FRAMEGATE_OPERATOR_SCREENSHOTS"):
        from PIL import Image

        for name in ("inspector.png", "explorer.png"):  # a palette keeps the pictures small
            with Image.open(tmp_path / name) as picture:
                picture.convert("RGB").quantize(colors=128).save(Path(target) / name, optimize=True)

    assert seen["errors"] == []
    assert seen["age"] not in ("", "–") and seen["age"].endswith(("s", "min", "h"))
    assert seen["lag"] not in ("", "–")
    assert sorted(seen["annotations"]) == ["person", "rocket"]
    assert sorted(seen["predictions"]) == ["cat 0.40", "person 0.91"]
    assert seen["rects"] == 4
    assert seen["image"] == f"api/frames/{INSPECTED}.jpg" and seen["image_status"] == 200
    assert len(seen["issues"]) == 1 and "model sees 'cat'" in seen["issues"][0]
    assert {"brightness", "sharpness"} <= set(seen["metrics"])
    assert all("n=" in usual for usual in seen["usual"])
    assert any(n.startswith("cam-1:000012") for n in seen["neighbours"]), seen["neighbours"]
    assert seen["all"] > len(seen["cam1"]) >= 2
    assert all(frame.startswith("cam-1:") for frame in seen["cam1"])
    assert seen["labels"] == ["person", "rocket"] and sorted(seen["predicted"]) == ["cat", "person"]
    assert seen["checked"] == [INSPECTED]
    assert "acknowledged by dashboard@" in seen["after_reload"]
    assert "acknowledged by dashboard@" in seen["second"]
    assert {"acknowledge", "mute", "rebaseline"} <= set(seen["second_audit"])
