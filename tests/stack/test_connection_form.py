"""The cascade connection form in Airflow's own UI, driven in Debian's headless Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.stack.conftest import Stack

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser.new_page(viewport={"width": 1400, "height": 1100})
        browser.close()


def shot(page: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("CASCADE_UPDATE_DOCS_SCREENSHOTS"):
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS_IMAGES / name)
    return path


def test_connection_form(airflow_stack: Stack, page: Any, tmp_path: Path) -> None:
    gw = airflow_stack.emulator
    port = gw.url.rsplit(":", 1)[1]
    page.goto(airflow_stack.url + "/connections")
    page.get_by_role("button", name="Add Connection").click()
    page.locator("input[name=connection_id]").fill("cascade_ui")
    page.get_by_role("combobox", name="Connection Type").click()
    page.keyboard.type("Cascade")
    page.get_by_role("option", name="Cascade").click()

    labels = page.locator("label").all_inner_texts()
    for label in ("Gateway URL", "Login", "Password", "Port"):
        assert label in [t.strip() for t in labels], labels
    assert page.locator("input[name=schema]").count() == 0  # hidden: the gateway has no schema
    page.get_by_label("Gateway URL").fill("http://127.0.0.1")
    page.get_by_label("Login").fill(gw.login)
    page.get_by_label("Password").fill(gw.password)
    page.get_by_label("Port").fill(port)
    page.get_by_text("Extra Fields", exact=True).click()
    token = page.locator("input[name=element_token]")
    assert token.get_attribute("type") == "password"
    token.fill(gw.token)
    page.get_by_role("combobox", name="Protocol variant").click()
    page.get_by_role("option", name="xml").click()
    shot(page, tmp_path, "connection-form.png")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Connection has been successfully created").wait_for()

    row = page.get_by_role("row").filter(has_text="cascade_ui")
    with page.expect_response(lambda r: "/connections/test" in r.url) as answer:
        row.get_by_role("button", name="Test Connection").click()
    assert answer.value.json() == {
        "status": True,
        "message": "Connected to the Cascade gateway (xml variant)",
    }
    row.get_by_role("button", name="Test Connection").hover()
    shot(page, tmp_path, "connection-test-ok.png")

    # A wrong password (and no token): the Test button tells the gateway's own words.
    row.get_by_role("button", name="Edit Connection").click()
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_text("Extra Fields", exact=True).click()
    page.locator("input[name=element_token]").fill("")
    page.get_by_role("button", name="Save").click()
    page.wait_for_timeout(1000)
    with page.expect_response(lambda r: "/connections/test" in r.url) as answer:
        row.get_by_role("button", name="Test Connection").click()
    assert answer.value.json() == {"status": False, "message": "Неправильный логин или пароль"}
    page.get_by_text("Test Connection Failed").wait_for()
    page.wait_for_timeout(700)  # let the toast finish sliding in
    assert page.get_by_text("Неправильный логин или пароль").is_visible()
    shot(page, tmp_path, "connection-test-error.png")

    # Reopened, the secrets are masked, never shown in clear.
    page.reload()
    page.get_by_role("row").filter(has_text="cascade_ui").get_by_role(
        "button", name="Edit Connection"
    ).click()
    assert page.get_by_label("Password").input_value() in ("***", "")
    page.get_by_text("Extra Fields", exact=True).click()
    assert page.locator("input[name=element_token]").input_value() in ("***", "")
    assert "not-the-password" not in page.content() and gw.token not in page.content()
