"""Fixtures of the browser tests: one chromium per session, a fresh context per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from tests.browser.harness import VIEWPORT, launch_chromium


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless (fails, never skips, when it is missing)."""
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser context (no cache, no storage) at 1280x800."""
    fresh = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    yield fresh
    fresh.close()
