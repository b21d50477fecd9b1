"""The campaigns pages in a real ``airflow api-server``, driven in Debian's headless Chromium:
behind Airflow's login, only for users who may read the DAG, with the numbers the ledger and
the sensor have for a run of the sharded example DAG against the emulator."""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cascade.ledger import Ledger, task_folder
from airflow_provider_cascade.testing.dagruns import run_dag, xcom
from airflow_provider_cascade.testing.emulator import CascadeEmulator
from airflow_provider_cascade.ui.app import create_app
from tests.stack.test_connection_form import ARGS, CHROMIUM, DOCS_IMAGES
from tests.ui.conftest import ApiServer

pytestmark = pytest.mark.slow
DAG = "example_cascade_sharded_campaign"
FAILED_DAG = "cascade_test_single"
ROOT = Path(__file__).resolve().parents[2]


def _with_conn(conn: dict[str, Any], file: str, dag_id: str) -> Any:
    before = os.environ.get("AIRFLOW_CONN_CASCADE_DEFAULT")
    os.environ["AIRFLOW_CONN_CASCADE_DEFAULT"] = json.dumps(conn)
    try:
        return run_dag(file, dag_id)
    finally:
        if before is None:
            os.environ.pop("AIRFLOW_CONN_CASCADE_DEFAULT", None)
        else:
            os.environ["AIRFLOW_CONN_CASCADE_DEFAULT"] = before


@pytest.fixture(scope="module")
def failed_run(ledger_root: Path, cascade_emulator: CascadeEmulator) -> str:
    """A send the gateway refuses (a wrong password): its campaign shows as failed."""
    conn = {**cascade_emulator.conn_dict("json"), "password": "not-the-password"}
    run = _with_conn(conn, "cascade_test_dags.py", FAILED_DAG)
    assert str(run.state) == "failed"
    return str(run.run_id)


@pytest.fixture(scope="module")
def sharded_run(ledger_root: Path, cascade_emulator: CascadeEmulator) -> Iterator[dict[str, Any]]:
    """A run of the sharded example; what its ledgers and its sensor say."""
    cascade_emulator.reset()
    run = _with_conn(cascade_emulator.conn_dict("json"), f"{DAG}.py", DAG)
    assert str(run.state) == "success"
    sent = [Ledger(task_folder(str(ledger_root), DAG, run.run_id, "send", i)).read_json(
        "summary.json") for i in range(3)]  # fmt: skip
    by_channel: dict[str, dict[str, int]] = {}
    for i in range(3):  # every state the wait wrote beside the ledgers, channel by channel
        wait = Path(task_folder(str(ledger_root), DAG, run.run_id, "send", i)) / "wait"
        for path in wait.glob("0*.jsonl"):
            for line in path.read_text().splitlines():
                for channel, own in json.loads(line)["channel_states"].items():
                    if own != "send":
                        states = by_channel.setdefault(channel, {})
                        states[own] = states.get(own, 0) + 1
    yield {
        "by_channel_state": by_channel,
        "run_id": run.run_id,
        "recipients": sum(s["total"] for s in sent),
        "accepted": sum(s["accepted"] for s in sent),
        "price_totals": xcom(run, "delivered", "price_totals"),
        "state_counts": xcom(run, "delivered", "state_counts"),
    }


def _routes() -> list[str]:
    return sorted({r.path for r in create_app().routes if hasattr(r, "path")})


def _query(run: dict[str, Any]) -> str:
    return urllib.parse.urlencode(
        {"dag_id": DAG, "run_id": run["run_id"], "task_id": "send", "map_index": 0}
    )


def test_every_plugin_route_refuses_requests_without_a_login(
    api_server: ApiServer, sharded_run: dict[str, Any]
) -> None:
    routes = _routes()
    assert "/campaigns" in routes and "/report" in routes
    for route in routes:
        path = f"/cascade{route}?{_query(sharded_run)}"
        status, body = api_server.get(path)
        assert status == 401, (path, body[:300])
        assert api_server.get(path, token="not-a-token")[0] in (401, 403), path
        assert api_server.get(path, cookie="not-a-token")[0] in (401, 403), path


def test_a_user_who_may_not_read_the_dag_sees_none_of_its_campaigns(
    api_server: ApiServer, sharded_run: dict[str, Any], failed_run: str
) -> None:
    viewer, outsider = api_server.token("viewer"), api_server.token("outsider")
    status, body = api_server.get("/cascade/api/campaigns", token=viewer)
    assert status == 200
    assert {c["dag_id"] for c in json.loads(body)["campaigns"]} == {DAG, FAILED_DAG}
    status, body = api_server.get("/cascade/api/campaigns", cookie=outsider)
    assert status == 200
    assert [c["dag_id"] for c in json.loads(body)["campaigns"]] == [FAILED_DAG]
    status, body = api_server.get("/cascade/campaigns", token=outsider)
    assert status == 200 and DAG not in body and FAILED_DAG in body
    for route in ("/campaign", "/run", "/task-instance", "/report"):
        path = f"/cascade{route}?{_query(sharded_run)}"
        assert api_server.get(path, token=outsider)[0] == 403, path
        assert api_server.get(path, token=viewer)[0] == 200, path


def test_a_send_airflow_failed_shows_as_failed(api_server: ApiServer, failed_run: str) -> None:
    token = api_server.token("viewer")
    body = api_server.get(f"/cascade/api/campaigns?dag_id={FAILED_DAG}", token=token)[1]
    (row,) = json.loads(body)["campaigns"]
    assert (row["run_id"], row["status"], row["accepted"]) == (failed_run, "failed", 0)


def test_the_list_and_the_report_show_the_ledgers_numbers_and_no_secret(
    api_server: ApiServer, sharded_run: dict[str, Any], cascade_emulator: CascadeEmulator
) -> None:
    token = api_server.token("viewer")
    rows = json.loads(api_server.get(f"/cascade/api/campaigns?dag_id={DAG}", token=token)[1])
    (row,) = rows["campaigns"]
    assert row["shards"] == [0, 1, 2] and row["status"] == "done"
    assert (row["recipients"], row["accepted"]) == (
        sharded_run["recipients"], sharded_run["accepted"],
    )  # fmt: skip
    assert Decimal(row["cost_total"]) == Decimal(sharded_run["price_totals"]["total"])
    assert row["cost_by_channel"] == sharded_run["price_totals"]["by_channel"]
    assert row["final_states"] == sharded_run["state_counts"]
    assert row["final_states_by_channel"] == sharded_run["by_channel_state"]
    pages = [api_server.get(f"/cascade{r}?{_query(sharded_run)}", token=token)[1]
             for r in _routes()]  # fmt: skip
    for body in pages:
        assert cascade_emulator.password not in body and cascade_emulator.token not in body


@pytest.fixture
def browser_page() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        yield context.new_page()
        browser.close()


def shot(target: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    target.screenshot(path=str(path), full_page=True)
    if os.environ.get("CASCADE_UPDATE_DOCS_SCREENSHOTS"):
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS_IMAGES / name)


def _metric(frame: Any, name: str) -> str:
    return str(frame.locator(f'[data-metric="{name}"] b').first.inner_text())


def test_campaigns_in_the_browser(
    api_server: ApiServer,
    sharded_run: dict[str, Any],
    failed_run: str,
    browser_page: Any,
    tmp_path: Path,
) -> None:
    page = browser_page
    page.goto(api_server.url + "/")
    page.locator("input[name=username]").fill("viewer")
    page.locator("input[name=password]").fill(api_server.passwords()["viewer"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/auth/login" not in url, wait_until="commit")

    page.get_by_role("button", name="Browse").click()
    page.get_by_role("menuitem", name="Campaigns").click()
    page.wait_for_url(lambda url: url.endswith("/plugin/cascade_campaigns"), wait_until="commit")
    frame = page.frame_locator("iframe")
    frame.get_by_role("link", name=sharded_run["run_id"]).wait_for()
    frame.get_by_role("link", name=failed_run).wait_for()
    shot(page, tmp_path, "ui-campaigns.png")
    frame.locator("select[name=dag_id]").select_option(DAG)  # the filter by DAG
    frame.get_by_role("button", name="Filter").click()
    frame.get_by_text("1–1 of 1").wait_for()
    assert frame.get_by_role("link", name=failed_run).count() == 0
    frame.get_by_role("link", name=sharded_run["run_id"]).click()
    frame.locator('[data-metric="recipients"]').wait_for()
    assert _metric(frame, "recipients") == f"{sharded_run['recipients']:,}"
    assert _metric(frame, "accepted") == f"{sharded_run['accepted']:,}"
    assert Decimal(_metric(frame, "cost total")) == Decimal(sharded_run["price_totals"]["total"])

    run = urllib.parse.quote(sharded_run["run_id"], safe="")
    page.goto(f"{api_server.url}/dags/{DAG}/runs/{run}")
    page.get_by_role("link", name="Cascade", exact=True).click()
    frame = page.frame_locator("iframe")
    frame.locator('[data-metric="accepted"]').wait_for()
    assert _metric(frame, "accepted") == f"{sharded_run['accepted']:,}"

    page.goto(f"{api_server.url}/dags/{DAG}/runs/{run}/tasks/send/mapped/1")
    page.get_by_role("link", name="Cascade", exact=True).click()
    frame = page.frame_locator("iframe")
    frame.locator('[data-metric="recipients"]').wait_for()
    assert _metric(frame, "recipients") == f"{sharded_run['recipients']:,}"
    shot(page, tmp_path, "ui-task-instance-tab.png")

    link = page.get_by_role("link", name="Cascade campaign")
    page.get_by_role("link", name="Details", exact=True).click()  # extra links are listed there
    link.wait_for()
    href = link.get_attribute("href")
    assert href is not None and "/cascade/task-instance?" in href
    page.goto(href if href.startswith("http") else api_server.url + href)
    assert page.locator('[data-metric="accepted"] b').first.inner_text() == (
        f"{sharded_run['accepted']:,}"
    )
    shot(page, tmp_path, "ui-campaign-page.png")
    page.emulate_media(color_scheme="dark")
    shot(page, tmp_path, "ui-campaign-page-dark.png")
