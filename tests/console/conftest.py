"""The web console in headless Chromium (Debian's `chromium`, installed by `make test`)
against the whole product on the embedded AWS, as `batch-calls local up` serves it.

Screenshots of each page go to build/console-screenshots/ (printed at the end): kept
until the next run, where pytest's temporary directories are pruned after three runs.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from local import runtime
from tests.api.client import Client

CHROMIUM = Path("/usr/bin/chromium")
# As CI runs it: no sandbox (root), no GPU, and nothing that reaches the network.
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
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "console-screenshots"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="package")
def product() -> Iterator[runtime.LocalRuntime]:
    with runtime.running() as local:
        yield local


@pytest.fixture(scope="package")
def console_url(product: runtime.LocalRuntime) -> str:
    return product.env()["CONSOLE_URL"]


@pytest.fixture(scope="package")
def api_key(product: runtime.LocalRuntime) -> str:
    return product.demo.api_key


@pytest.fixture
def client(product: runtime.LocalRuntime, api_key: str) -> Client:
    return Client(product.gateway.url, api_key)


@pytest.fixture(scope="package")
def screenshots() -> Iterator[Path]:
    folder = SCREENSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    yield folder
    print(f"\nconsole screenshots: {folder}")


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # UTC: the times typed into the pages are read in the browser's zone.
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True, timezone_id="UTC")
    context.set_default_timeout(15_000)
    opened = context.new_page()
    yield opened
    context.close()


def sign_in(page: Page, console_url: str, api_key: str, route: str = "#/batches") -> None:
    """Open the console and paste the key at its prompt."""
    page.goto(console_url + route)
    page.get_by_label("API key").fill(api_key)
    page.get_by_role("button", name="Use this key").click()
