"""Fixtures of the browser tests: one chromium per session, a fresh context per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect, sync_playwright

from tests.browser.harness import VIEWPORT, launch_chromium

# CI runs these beside the compose tests' image builds on 2 cores: a page can take longer than
# Playwright's default 5 s to show what it will show (seen once: the meter list after 5 s).
expect.set_options(timeout=15_000)


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
