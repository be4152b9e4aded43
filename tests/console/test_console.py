"""A person's way through the console, in headless Chromium against the local product:
the key prompt, a batch created from a file and watched to completion, its report
downloaded, a validation error, pause / edit / resume / stop, the suppression list, a
refused key, and the phone layout. Every page is screenshotted."""

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, Route, expect

from tests.api.client import Client
from tests.console.conftest import PHONE, sign_in

# Calls the simulator ends at once; the first row needs a retry, and tells its facts.
QUICK_CSV = (
    "phone_number,customer_name,sim_outcomes,sim_duration_seconds,sim_data,sim_ended_reason,"
    "sim_cost\n"
    '+919876543210,Priya Sharma,"no_answer,completed",0.2,"{""interest"": ""high""}",'
    "customer-ended-call,0.12\n"
    "+919123456789,Rahul Mehra,completed,0.2,,,\n"
    "+14155550101,Jordan Lee,voicemail,0.2,,,\n"
)
# Calls that last long enough to pause the batch while they run.
SLOW_CSV = "phone_number,customer_name,sim_duration_seconds\n" + "".join(
    f"+1415555{n:04d},Caller {n},20\n" for n in range(300, 320)
)


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_key_is_asked_once_and_kept_out_of_addresses(
    page: Page, console_url: str, api_key: str, screenshots: Path
) -> None:
    page.goto(console_url)
    expect(page.get_by_role("heading", name="Your API key")).to_be_visible()
    page.screenshot(path=screenshots / "01-key-prompt.png")
    sign_in(page, console_url, api_key)
    expect(page.get_by_role("heading", name="Batches")).to_be_visible()
    assert api_key not in page.url
    assert page.evaluate("sessionStorage.getItem('batch-calls.api-key')") == api_key
    page.get_by_role("link", name="Suppression list").click()
    expect(page.get_by_role("heading", name="Suppression list")).to_be_visible()
    page.reload()  # the same tab keeps the key
    expect(page.get_by_role("heading", name="Suppression list")).to_be_visible()


def test_create_from_a_file_watch_it_complete_and_download_the_report(
    page: Page, *, console_url: str, api_key: str, screenshots: Path, tmp_path: Path, client: Client
) -> None:
    batches_before = client.request("GET", "/batch-calls?limit=1").body["meta"]["total"]
    sign_in(page, console_url, api_key, "#/new")
    page.get_by_label("Name").fill("Console follow-up")
    page.get_by_label("Agent").fill("agt_demo")
    page.get_by_label("From number").fill("+912234567890")
    page.get_by_label("Contact file").set_input_files(_file(tmp_path, "leads.csv", QUICK_CSV))
    page.get_by_label("Concurrent calls").fill("3")
    page.get_by_label("Max retries").fill("1")
    page.get_by_label("Wait between attempts (minutes)").fill("0.02")
    page.get_by_role("button", name="Preview").click()

    preview = page.get_by_role("region", name="Preview")
    expect(preview.locator("dd").nth(1)).to_have_text("3")  # rows to call
    expect(preview.get_by_role("cell", name="found")).to_have_count(1)  # {{customer_name}}
    expect(preview).to_contain_text("IN 2, US 1")
    page.screenshot(path=screenshots / "02-new-batch-preview.png", full_page=True)
    assert client.request("GET", "/batch-calls?limit=1").body["meta"]["total"] == batches_before

    page.get_by_role("button", name="Create batch").click()
    expect(page.get_by_role("heading", name="Console follow-up")).to_be_visible()
    expect(page.locator(".summary .badge")).to_have_text("completed", timeout=90_000)
    recipients = page.locator("table.recipients tbody tr")
    expect(recipients).to_have_count(3)
    # The call facts and the post-call data the recipients API returns.
    priya = recipients.filter(has_text="+919876543210")
    expect(priya.get_by_role("cell").nth(6)).to_contain_text(
        "0.2 s · answered by human · ended: customer-ended-call · 0.12 USD"
    )
    expect(priya.get_by_role("link", name="Recording")).to_have_attribute(
        "href", re.compile(r"^https://simulator\.invalid/recordings/")
    )
    expect(priya.get_by_role("cell").nth(7)).to_have_text("interesthigh")
    # The batch's analytics: 4 calls (one retry), 3 answered.
    results = page.get_by_role("region", name="Results")
    expect(results).to_contain_text("Calls ended4")
    expect(results).to_contain_text("Answer rate75 % (3 answered)")
    expect(results).to_contain_text("Retries used1")
    by_attempt = results.get_by_role("table", name="Outcomes per attempt")
    expect(by_attempt.get_by_role("row", name="2")).to_contain_text("1")
    page.screenshot(path=screenshots / "03-batch-completed.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("button", name="Download report").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert [(r["customer_name"], r["final_status"], r["attempts_made"]) for r in rows] == [
        ("Priya Sharma", "completed", "2"),
        ("Rahul Mehra", "completed", "1"),
        ("Jordan Lee", "voicemail", "1"),
    ]
    expect(page.get_by_text(f"Report downloaded: {saved.name}")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download audit").click()
    audit = tmp_path / download.value.suggested_filename
    download.value.save_as(audit)
    calls = list(csv.DictReader(io.StringIO(audit.read_text(encoding="utf-8-sig"))))
    assert sorted((c["phone_number"], c["attempt"]) for c in calls) == [
        ("'+14155550101", "1"),  # neutralised for spreadsheets, as in the report
        ("'+919123456789", "1"),
        ("'+919876543210", "1"),
        ("'+919876543210", "2"),
    ]

    # A re-run of the voicemail recipient, asked first.
    page.get_by_role("button", name="Re-run…").click()
    dialog = page.get_by_role("dialog", name="Re-run this batch?")
    expect(dialog.get_by_label("voicemail (1)")).to_be_checked()
    expect(dialog.get_by_label("completed (2)")).not_to_be_checked()
    dialog.get_by_role("button", name="Cancel").click()
    assert client.request("GET", "/batch-calls?limit=1").body["meta"]["total"] == batches_before + 1
    page.get_by_role("button", name="Re-run…").click()
    dialog.get_by_role("button", name="Create the re-run").click()
    expect(page.get_by_role("heading", name="Console follow-up (re-run)")).to_be_visible()
    expect(page.locator(".meta")).to_contain_text("re-run of")
    expect(page.locator("table.recipients tbody tr")).to_have_text(re.compile(r"\+14155550101"))


def test_a_validation_error_is_shown_as_the_api_words_it(
    page: Page, *, console_url: str, api_key: str, screenshots: Path, tmp_path: Path, client: Client
) -> None:
    bad = "phone_number,customer_name\n12345,A\n+44 20 7946 0958,B\n9876543210,C\n"
    sign_in(page, console_url, api_key, "#/new")
    page.get_by_label("Agent").fill("agt_demo")
    page.get_by_label("From number").fill("+912234567890")
    page.get_by_label("Contact file").set_input_files(_file(tmp_path, "bad.csv", bad))
    page.get_by_role("button", name="Preview").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("2 of 3 rows failed validation")
    expect(alert.get_by_role("listitem").filter(has_text="invalid_phone_number")).to_contain_text(
        "Rows 2"
    )
    expect(alert.get_by_role("listitem").filter(has_text="unsupported_country")).to_contain_text(
        "(GB)"
    )
    # Word for word what the API answers.
    api = client.create(csv=bad, path="/batch-calls/validate").body
    expect(alert.locator(".error-message")).to_have_text(api["message"])
    expect(page.get_by_role("button", name="Create batch")).to_have_count(0)
    page.screenshot(path=screenshots / "04-validation-error.png", full_page=True)


def test_pause_edit_resume_and_stop_a_batch(
    page: Page, console_url: str, api_key: str, screenshots: Path, client: Client
) -> None:
    created = client.create(
        {"name": "Long calls", "max_concurrent_calls": "2", "from_phone_number": "+14155550100"},
        csv=SLOW_CSV,
    )
    assert created.status == 201, created.body
    batch_id = created.body["id"]
    sign_in(page, console_url, api_key, f"#/batch/{batch_id}")
    badge = page.locator(".summary .badge")
    expect(badge).to_have_text("running", timeout=30_000)

    page.get_by_role("button", name="Pause").click()
    expect(badge).to_have_text("paused")
    page.get_by_role("button", name="Edit settings").click()
    page.get_by_label("Concurrent calls").fill("4")
    page.get_by_label("Priority").fill("8")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    settings = client.request("GET", f"/batch-calls/{batch_id}").body
    assert (settings["max_concurrent_calls"], settings["priority"]) == (4, 8)
    page.screenshot(path=screenshots / "05-batch-paused.png", full_page=True)

    page.get_by_role("button", name="Resume").click()
    expect(badge).not_to_have_text("paused")
    assert client.request("GET", f"/batch-calls/{batch_id}").body["status"] != "paused"

    page.get_by_role("button", name="Stop", exact=True).click()
    dialog = page.get_by_role("dialog", name="Stop this batch?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Keep it").click()  # asked first, nothing happens
    expect(badge).not_to_have_text("cancelled")
    page.get_by_role("button", name="Stop", exact=True).click()
    dialog.get_by_role("button", name="Stop the batch").click()
    expect(badge).to_have_text("cancelled")
    assert client.request("GET", f"/batch-calls/{batch_id}").body["status"] == "cancelled"


def test_recipients_are_filtered_by_status_and_paged_by_cursor(
    page: Page, console_url: str, api_key: str, client: Client
) -> None:
    many = "phone_number,customer_name\n" + "".join(
        f"+1212555{n:04d},Person {n}\n" for n in range(100, 160)
    )
    created = client.create(
        {"from_phone_number": "+14155550100", "start": "false", "name": "Sixty"}, csv=many
    )
    assert created.status == 201, created.body
    sign_in(page, console_url, api_key, f"#/batch/{created.body['id']}")
    rows = page.locator("table.recipients tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("+12125550100")
    page.get_by_role("button", name="Next").click()
    expect(rows).to_have_count(10)
    expect(page.get_by_text("Page 2")).to_be_visible()
    page.get_by_role("button", name="Previous").click()
    expect(rows).to_have_count(50)
    page.get_by_label("Status", exact=True).last.select_option("completed")
    expect(page.get_by_text("No recipients here (yet).")).to_be_visible()


def test_the_suppression_list_adds_uploads_searches_and_removes(
    page: Page, console_url: str, api_key: str, screenshots: Path, tmp_path: Path
) -> None:
    sign_in(page, console_url, api_key, "#/suppression")
    main = page.get_by_role("main")
    page.get_by_label("Numbers to add").fill("+14155550901\n+14155550902, +12125550903")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(main.get_by_text("Added 3 numbers (0 already listed).")).to_be_visible()
    upload = _file(tmp_path, "dnc.csv", "phone_number\n+14155550904\nnot a number\n")
    page.get_by_label("Source label").fill("dnc-extract-2026-12")
    page.get_by_label("Held until (your local time)").fill("2030-01-31T12:00")
    page.get_by_label("Upload a file").set_input_files(upload)
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(main.get_by_text("Rows without a valid number: 3")).to_be_visible()

    page.get_by_label("Number starts with").fill("+1415555090")
    page.get_by_role("button", name="Search").click()
    table = page.locator("table.suppressed tbody tr")
    expect(table).to_have_count(3)
    page.get_by_label("Number starts with").fill("+14155550904")
    page.get_by_role("button", name="Search").click()
    expect(table).to_have_count(1)
    expect(table).to_contain_text("dnc-extract-2026-12")
    expect(table.locator("time").last).to_have_attribute(
        "datetime", re.compile("^2030-01-31T12:00")
    )
    page.get_by_label("Number starts with").fill("+1415555090")
    page.get_by_role("button", name="Search").click()
    expect(table).to_have_count(3)
    expect(table.filter(has_text="+14155550901")).to_contain_text("for good")
    page.screenshot(path=screenshots / "06-suppression-list.png", full_page=True)
    page.get_by_role("button", name="Remove +14155550902").click()
    expect(main.get_by_text("Removed +14155550902.")).to_be_visible()
    expect(table).to_have_count(2)
    page.get_by_role("button", name="Remove +14155550902").wait_for(state="detached")


def test_a_refused_key_sends_the_user_back_to_the_prompt(page: Page, console_url: str) -> None:
    sign_in(page, console_url, "not-a-key")
    expect(page.get_by_role("alert")).to_contain_text("The API refused the key (401")
    expect(page.get_by_label("API key")).to_be_focused()
    assert page.evaluate("sessionStorage.getItem('batch-calls.api-key')") is None


def test_every_control_is_labelled_and_reachable_by_keyboard(
    page: Page, console_url: str, api_key: str
) -> None:
    sign_in(page, console_url, api_key, "#/new")
    expect(page.get_by_role("heading", name="New batch")).to_be_visible()
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter((c) => c.type !== 'hidden' && c.labels.length === 0
                    && !c.getAttribute('aria-label'))
            .map((c) => c.name)"""
    )
    assert unlabelled == []
    page.get_by_label("Name").focus()
    page.keyboard.type("Typed")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "agent_id"
    # A status filter chosen with the arrow keys filters, and keeps the focus.
    page.get_by_role("link", name="Batches", exact=True).click()
    page.get_by_label("Status").focus()
    page.keyboard.press("ArrowDown")
    page.wait_for_url("**#/batches?status=initiated")
    expect(page.get_by_label("Status")).to_be_focused()
    expect(page.get_by_label("Status")).to_have_value("initiated")


def test_the_phone_layout_fits_the_screen(
    page: Page, console_url: str, api_key: str, screenshots: Path, client: Client
) -> None:
    created = client.create({"name": "On a phone"})
    assert created.status == 201, created.body
    page.set_viewport_size(PHONE)
    sign_in(page, console_url, api_key)
    expect(page.get_by_role("link", name="On a phone")).to_be_visible()
    for route in ("#/batches", "#/new", "#/suppression", f"#/batch/{created.body['id']}"):
        page.goto(console_url + route)
        page.get_by_role("heading", level=1).first.wait_for()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (route, overflow)
    page.goto(console_url + "#/batches")
    expect(page.get_by_role("link", name="On a phone")).to_be_visible()
    page.screenshot(path=screenshots / "07-phone-batches.png", full_page=True)


def test_the_page_is_served_with_a_strict_content_security_policy(
    page: Page, console_url: str
) -> None:
    response = page.goto(console_url)
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert page.evaluate("document.scripts.length") == 1


def test_a_scheduled_batch_says_when_it_starts_and_can_be_edited(
    page: Page, console_url: str, api_key: str, client: Client
) -> None:
    later = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    created = client.create({"name": "Tonight", "scheduled_at": later.isoformat()})
    assert created.status == 201, created.body
    sign_in(page, console_url, api_key, f"#/batch/{created.body['id']}")
    expect(page.locator(".summary .badge")).to_have_text("scheduled")
    waiting = page.locator(".waiting")
    expect(waiting).to_contain_text("Scheduled: the first calls start at")
    expect(waiting.locator("time")).to_have_attribute(
        "datetime", re.compile(later.strftime("%Y-%m-%dT%H:%M"))
    )
    page.get_by_role("button", name="Edit settings").click()
    page.get_by_label("Name").fill("Tonight, renamed")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("heading", name="Tonight, renamed")).to_be_visible()
    assert (
        client.request("GET", f"/batch-calls/{created.body['id']}")
        .body["scheduled_at"]
        .startswith(later.strftime("%Y-%m-%dT%H:%M"))
    )


def test_tags_are_shown_and_filter_the_list(
    page: Page, console_url: str, api_key: str, client: Client, screenshots: Path
) -> None:
    created = client.create({"name": "Tagged batch", "tags": "vip,may-campaign"})
    assert created.status == 201, created.body
    assert client.create({"name": "Untagged batch"}).status == 201
    sign_in(page, console_url, api_key)
    row = page.get_by_role("row").filter(has_text="Tagged batch")
    expect(row.get_by_role("list", name="Tags")).to_have_text("vipmay-campaign")
    page.screenshot(path=screenshots / "08-batches.png", full_page=True)

    page.get_by_label("Tag", exact=True).fill("may-campaign")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"#/batches\?tag=may-campaign$"))
    expect(page.locator("table.batches tbody tr")).to_have_text([re.compile("Tagged batch")])
    expect(page.get_by_text("Tag: may-campaign")).to_be_visible()
    page.get_by_role("button", name="Show every tag").click()
    page.wait_for_url(re.compile(r"#/batches$"))
    expect(page.get_by_role("link", name="Untagged batch")).to_be_visible()
    page.get_by_role("row").filter(has_text="Tagged batch").get_by_role("link", name="vip").click()
    page.wait_for_url(re.compile(r"#/batches\?tag=vip$"))
    expect(page.locator("table.batches tbody tr")).to_have_count(1)


def test_a_file_too_large_for_the_api_body_goes_to_s3_first(
    page: Page, *, console_url: str, api_key: str, tmp_path: Path, client: Client
) -> None:
    notes = "n" * 3000  # wide rows: a big file, few recipients
    big = "phone_number,customer_name,notes\n" + "".join(
        f"+1212555{n:04d},Person {n},{notes}\n" for n in range(2000, 4100)
    )
    assert len(big) > 6 * 1024 * 1024  # over the ~4.5 MB of file an API request holds
    sign_in(page, console_url, api_key, "#/new")
    page.get_by_label("Name").fill("Big file")
    page.get_by_label("Agent").fill("agt_demo")
    page.get_by_label("From number").fill("+14155550100")
    page.get_by_label("Contact file").set_input_files(_file(tmp_path, "big.csv", big))
    page.get_by_label("Tags").fill("big-file, q4")
    page.get_by_label("Compliance rules").select_option("none")
    page.get_by_label("Under a compliance profile, no calls on US federal holidays").uncheck()
    page.get_by_label("Save as a draft").check()
    with page.expect_request(re.compile(r"/batch-calls/validate$")) as validate:
        page.get_by_role("button", name="Preview").click()
    sent = validate.value.post_data or ""
    assert 'name="upload_id"' in sent and len(sent) < 10_000  # the id, not the file
    expect(page.get_by_role("region", name="Preview").locator("dd").nth(1)).to_have_text("2100")

    page.get_by_role("button", name="Create batch").click()
    expect(page.get_by_role("heading", name="Big file")).to_be_visible()
    batch_id = page.url.rsplit("/", 1)[-1]
    batch = client.request("GET", f"/batch-calls/{batch_id}").body
    assert (batch["status"], batch["total_leads"], batch["tags"]) == (
        "draft",
        2100,
        ["big-file", "q4"],
    )
    assert (batch["compliance_profile"], batch["observe_federal_holidays"]) == ("none", False)


def test_why_a_batch_and_a_recipient_wait(
    page: Page, console_url: str, api_key: str, client: Client
) -> None:
    now = datetime.now(UTC)
    opens, closes = now + timedelta(hours=2), now + timedelta(hours=3)
    window = {"timezone": "UTC", "start": f"{opens:%H:00}", "end": f"{closes:%H:00}"}
    created = client.create({"name": "Out of hours", "calling_window": json.dumps(window)})
    assert created.status == 201, created.body
    held_until = "2030-01-31T09:00:00.000Z"

    # A recipient held back by a contact limit (#20), as the recipients API tells it.
    def held_back(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        body["data"][0].update(waiting_for="contact_limit", waiting_until=held_until)
        route.fulfill(response=response, json=body)

    page.route(re.compile(r"/recipients\?"), held_back)
    sign_in(page, console_url, api_key, f"#/batch/{created.body['id']}")
    expect(page.locator(".waiting")).to_contain_text(
        "Outside the calling hours; they open at", timeout=30_000
    )
    expect(page.locator(".waiting time")).to_have_attribute(
        "datetime", re.compile(f"T{opens:%H}:00")
    )
    first = page.locator("table.recipients tbody tr").first
    expect(first).to_contain_text("held back: contact limit reached until")
    expect(first.locator("time")).to_have_attribute("datetime", held_until)
    client.request("POST", f"/batch-calls/{created.body['id']}/cancel")
    page.unroute_all(behavior="ignoreErrors")  # the page still polls: no answer half-made
