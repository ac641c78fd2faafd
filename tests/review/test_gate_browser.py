"""A reviewer answers a gate in the Prefect UI, driven by a real (headless) Chromium.

Needs Debian's Chromium at /usr/bin/chromium (``make browser`` installs it; ``make test``
depends on that target). The UI is the classic one served by the session's own
``prefect server start``: a paused run's page has a "Resume" button that opens a modal
(``.p-modal``) with the gate's Markdown description above a form generated from its schema.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from govflow.ledger.engine import Ledger
from govflow.ledger.models import ReviewDecision
from govflow.prefect_api import PrefectAPI
from tests.support.gates import contested_request

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
# Tall enough that the modal shows the whole description (its table included) and the whole
# form without inner scrolling: at 1100 px the description shrinks to a ~220 px scroll box.
# The modal's width is fixed (512 px), so a wider viewport does not widen the table.
VIEWPORT = {"width": 1400, "height": 1500}
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "reviewer-form.png"
UI_TIMEOUT_MS = 30_000
FLOW_TIMEOUT_S = 90


@pytest.fixture
def page(prefect_server, tmp_path: Path) -> Iterator:
    """A fresh headless Chromium page (no shared state between tests)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        context = browser.new_context(viewport=VIEWPORT)
        opened = context.new_page()
        opened.set_default_timeout(UI_TIMEOUT_MS)
        try:
            yield opened
        finally:
            context.close()
            browser.close()


@contextmanager
def explained(page, tmp_path: Path) -> Iterator[None]:
    """On any failure, save a screenshot and put the page's text into the failure message."""
    try:
        yield
    except Exception as exc:
        shot = tmp_path / "failure.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            (tmp_path / "failure.html").write_text(page.content())
            text = page.locator("body").inner_text(timeout=2_000)
        except Exception as inner:  # the page itself may be gone
            text = f"(page unavailable: {inner!r})"
        raise AssertionError(
            f"{type(exc).__name__}: {exc}\n"
            f"--- screenshot: {shot}, HTML next to it (url {page.url})\n"
            f"--- page text:\n{text[-6000:]}"
        ) from exc


def wait_for_form(run_id: str, pause_key: str) -> None:
    """The schema is stored after the Paused state: the UI has no form until it exists."""
    with PrefectAPI() as api:
        schema = api.wait_for_input(run_id, f"paused-{pause_key}-schema", timeout=30)
    assert schema is not None, f"no schema stored for pause {pause_key}"


def open_resume_form(page, ui_url: str, run_id: str, items: int):
    """Open the run's page, click "Resume" and return the modal once its form is rendered."""
    from playwright.sync_api import expect

    page.goto(f"{ui_url}/runs/flow-run/{run_id}")
    page.get_by_role("button", name="Resume", exact=True).click()
    modal = page.locator(".p-modal")
    expect(modal.locator(".p-modal__title")).to_have_text("Resume Flow Run")
    expect(modal.locator("button.p-select-button__control")).to_have_count(items)
    expect(modal.locator(".markdown-renderer__table")).to_be_visible()
    return modal


def form_field(modal, title: str):
    """The form property whose label is exactly ``title`` (labels are not tied to inputs)."""
    label = modal.page.locator(".schema-form-property__label").get_by_text(title, exact=True)
    return modal.locator(".schema-form-property").filter(has=label)


def fill_text(modal, title: str, value: str) -> None:
    from playwright.sync_api import expect

    box = form_field(modal, title).locator("textarea")
    box.fill(value)
    expect(box).to_have_value(value)


def choose(modal, title: str, choice: str) -> None:
    """Pick ``choice`` in a custom select: a mouse click does not open it, ArrowDown does.

    The options are not inside the modal: the listbox is teleported to the end of <body>
    (``.p-pop-over-content``), and only the open select has one.
    """
    from playwright.sync_api import expect

    control = form_field(modal, title).locator("button.p-select-button__control")
    control.focus()
    control.press("ArrowDown")
    listbox = modal.page.locator(".p-pop-over-content [role=listbox]")
    listbox.get_by_role("option", name=choice, exact=True).click()
    expect(listbox).to_have_count(0)
    expect(control).to_have_text(choice)


def code_for(token_file: Path, gate: dict) -> str:
    """The reviewer's one-time code for this form, as `govflow review code` prints it."""
    from govflow.ledger.people import gate_code

    return gate_code(token_file.read_text().strip(), gate["pause_key"])


def answer(modal, *, reviewer: str, code: str, choices: dict[str, str], note: str) -> None:
    fill_text(modal, "Reviewer id", reviewer)
    # The schema asks for format "password"; the classic UI has no such widget (its schema
    # form renders every string as a textarea; only the V2 UI renders a password input).
    fill_text(modal, "One-time code", code)
    for index, (key, choice) in enumerate(choices.items(), start=1):
        choose(modal, f"{index}. {key}", choice)
    fill_text(modal, "Note (Optional)", note)


def submit(modal) -> None:
    from playwright.sync_api import expect

    modal.get_by_role("button", name="Submit", exact=True).click()
    expect(modal.locator(".p-modal__title")).to_have_count(0)


def save_screenshot(png: bytes, tmp_path: Path) -> None:
    """Keep the form's picture; refresh the README's copy only when asked or when missing.

    The picture shows a deadline relative to now, so rewriting it on every run would leave
    the working tree modified after each `make test`. GOVFLOW_UPDATE_SCREENSHOTS=1 refreshes it.
    """
    (tmp_path / SCREENSHOT.name).write_bytes(png)
    if SCREENSHOT.exists() and os.environ.get("GOVFLOW_UPDATE_SCREENSHOTS") != "1":
        return
    try:
        SCREENSHOT.parent.mkdir(exist_ok=True)
        with open(SCREENSHOT, "wb") as out:
            out.write(png)
    except OSError as exc:
        warnings.warn(f"could not write {SCREENSHOT}: {exc}", stacklevel=2)


def ledger_decisions(url: str) -> list[tuple]:
    ledger = Ledger.open(url)
    with ledger.reader() as session:
        rows = session.scalars(select(ReviewDecision).order_by(ReviewDecision.id)).all()
        found = [(d.item_key, d.choice, d.reviewer_id, d.note, d.tier) for d in rows]
    ledger.dispose()
    return found


def test_reviewer_answers_the_gate_in_the_prefect_ui(
    gates, roster, govflow_env, prefect_server, page, tmp_path
):
    from playwright.sync_api import expect

    future, run_id = gates.start(contested_request(keys=("T1", "T2", "T3")))
    gate = gates.wait_paused(run_id)
    key = gate["pause_key"]
    wait_for_form(run_id, key)
    chosen = {"T1": "bug", "T2": "billing", "T3": "exclude"}
    note = "checked the tickets in the UI"

    with explained(page, tmp_path):
        modal = open_resume_form(page, prefect_server.ui_url, run_id, items=len(chosen))
        description = modal.locator(".p-modal__body > article.markdown-renderer")
        expect(description).to_contain_text("Why you are asked: low_agreement (3)")
        expect(description).to_contain_text("ann: bug (0.91), zed: billing (0.62)")
        answer(
            modal,
            reviewer="bob",
            code=code_for(roster["bob"], gate),
            choices=chosen,
            note=note,
        )
        code_box = form_field(modal, "One-time code").locator("textarea")
        save_screenshot(
            modal.locator(".p-modal__card").screenshot(mask=[code_box], mask_color="#52525b"),
            tmp_path,
        )
        submit(modal)
        outcome = future.result(timeout=FLOW_TIMEOUT_S)

    assert [
        (d["item_key"], d["choice"], d["reviewer_id"], d["outcome"]) for d in outcome["decisions"]
    ] == [(item, choice, "bob", "decided") for item, choice in chosen.items()]
    assert ledger_decisions(govflow_env["GOVFLOW_DATABASE_URL"]) == [
        (item, choice, "bob", note, 1) for item, choice in chosen.items()
    ]
    with PrefectAPI() as api:
        assert api.read_input(run_id, f"paused-{key}-response") is None


def test_rejected_ui_submission_reopens_the_form_with_the_reason(
    gates, roster, govflow_env, prefect_server, page, tmp_path
):
    from playwright.sync_api import expect

    future, run_id = gates.start(contested_request(keys=("T1", "T2")))
    first = gates.wait_paused(run_id)
    wait_for_form(run_id, first["pause_key"])
    reason = "the one-time code does not match reviewer 'bob' for this form"

    with explained(page, tmp_path):
        modal = open_resume_form(page, prefect_server.ui_url, run_id, items=2)
        answer(
            modal,
            reviewer="bob",
            code=code_for(roster["rita"], first),
            choices={"T1": "bug", "T2": "bug"},
            note="wrong code",
        )
        submit(modal)
        second = gates.wait_paused(run_id, attempt_key="-a2")
        wait_for_form(run_id, second["pause_key"])

        modal = open_resume_form(page, prefect_server.ui_url, run_id, items=2)  # a fresh load
        description = modal.locator(".p-modal__body > article.markdown-renderer")
        expect(description.get_by_text("Your previous submission was rejected")).to_be_visible()
        expect(description.get_by_text(reason)).to_be_visible()
        text = description.inner_text()
        assert text.startswith(f"Your previous submission was rejected: {reason}."), text
        answer(
            modal,
            reviewer="bob",
            code=code_for(roster["bob"], second),
            choices={"T1": "billing", "T2": "bug"},
            note="second try",
        )
        submit(modal)
        outcome = future.result(timeout=FLOW_TIMEOUT_S)

    assert [(d["item_key"], d["choice"], d["reviewer_id"]) for d in outcome["decisions"]] == [
        ("T1", "billing", "bob"),
        ("T2", "bug", "bob"),
    ]
    assert ledger_decisions(govflow_env["GOVFLOW_DATABASE_URL"]) == [
        ("T1", "billing", "bob", "second try", 1),
        ("T2", "bug", "bob", "second try", 1),
    ]
    with PrefectAPI() as api:
        for gate in (first, second):
            assert api.read_input(run_id, f"paused-{gate['pause_key']}-response") is None


def test_a_form_left_open_in_the_ui_never_decides_the_next_batch(
    gates, roster, run_cli, govflow_env, prefect_server, page, tmp_path
):
    from tests.support.gates import decide

    future, run_id = gates.start(contested_request(keys=("T1", "T2", "T3", "T4"), batch_size=2))
    first = gates.wait_paused(run_id)
    wait_for_form(run_id, first["pause_key"])

    with explained(page, tmp_path):
        modal = open_resume_form(page, prefect_server.ui_url, run_id, items=2)
        answer(
            modal,
            reviewer="rita",
            code=code_for(roster["rita"], first),
            choices={"T1": "billing", "T2": "billing"},
            note="answered late",
        )
        # Meanwhile bob answers the same batch from a terminal, and batch 2 opens.
        assert decide(run_cli, roster, run_id, "bob", "--all", "bug").code == 0
        second = gates.wait_paused(run_id, not_gate=first["gate_id"])
        wait_for_form(run_id, second["pause_key"])
        submit(modal)  # rita's form, still showing T1 and T2
        gates.wait_paused(run_id, attempt_key="-a2")

    with PrefectAPI() as api:
        verdict = api.read_input(run_id, f"govflow-verdict-{second['pause_key']}")
    assert f"the form was built for gate {first['gate_id']} (items T1, T2)" in verdict
    assert ledger_decisions(govflow_env["GOVFLOW_DATABASE_URL"]) == [
        ("T1", "bug", "bob", None, 1),
        ("T2", "bug", "bob", None, 1),
    ]
    assert decide(run_cli, roster, run_id, "rita", "--all", "billing").code == 0
    future.result(timeout=FLOW_TIMEOUT_S)
