"""What a person sees in a real browser: headless Chromium (Debian's package) via Selenium.

The server is the real WSGI app on a loopback port, in a thread. Chromium and chromedriver
must be installed (the test command installs them); their absence fails this test.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from docexchange.domain.reports import PeriodKind, period_of
from docexchange.domain.timeutil import today_vn
from docexchange.services.container import Services
from docexchange.web.app import create_app
from tests.conftest import serve_in_thread
from tests.data.samples import make_pdf

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def live_server(services: Services, demo: None) -> Iterator[str]:
    demo_services = replace(services, settings=services.settings.with_overrides(demo_mode=True))
    with serve_in_thread(create_app(services=demo_services)) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    options = Options()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="dx-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--lang=vi",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


#: What a lookup may meet while a page is being replaced; waits retry past these.
SETTLING = (StaleElementReferenceException, WebDriverException)


def click_and_load(browser: webdriver.Chrome, by: str, value: str) -> None:
    """Click something that loads a new page, and wait until the old page is gone.

    Without the wait, the next lookup can hit the old document while the new one loads.
    """
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(by, value).click()

    def old_page_gone(_driver: webdriver.Chrome) -> bool:
        try:
            old.is_enabled()
        except (StaleElementReferenceException, WebDriverException):
            # Chromium sometimes reports a replaced page as "Node with given id does not
            # belong to the document" instead of a stale element.
            return True
        return False

    WebDriverWait(browser, 30).until(old_page_gone)
    WebDriverWait(browser, 30).until(
        lambda driver: driver.execute_script("return document.readyState") == "complete"
    )


def sign_in(browser: webdriver.Chrome, live_server: str, username: str) -> None:
    """Sign in afresh as a demo account and wait for the home page."""
    browser.delete_all_cookies()
    browser.get(f"{live_server}/login")
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys("demo-Password-1")
    click_and_load(browser, By.ID, "submit")
    WebDriverWait(browser, 30, ignored_exceptions=SETTLING).until(
        ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Xin chào")
    )


def test_a_clerk_signs_in_and_browses_the_directory(
    live_server: str, browser: webdriver.Chrome
) -> None:
    wait = WebDriverWait(browser, 15, ignored_exceptions=SETTLING)
    browser.get(f"{live_server}/login")
    heading = browser.find_element(By.TAG_NAME, "h1")
    assert heading.text == "Đăng nhập"
    assert browser.find_element(By.CSS_SELECTOR, "label[for=username]").text == "Tên đăng nhập"
    assert "Bản trình diễn" in browser.find_element(By.CLASS_NAME, "demo-banner").text

    browser.find_element(By.ID, "username").send_keys("pt.vanthu")
    browser.find_element(By.ID, "password").send_keys("wrong-password")
    click_and_load(browser, By.ID, "submit")
    alert = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "p.flash.error")))
    assert alert.text == "Sai tên đăng nhập hoặc mật khẩu."

    browser.find_element(By.ID, "username").clear()
    browser.find_element(By.ID, "username").send_keys("pt.vanthu")
    browser.find_element(By.ID, "password").send_keys("demo-Password-1")
    click_and_load(browser, By.ID, "submit")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Xin chào"))

    click_and_load(browser, By.LINK_TEXT, "Danh bạ đơn vị")
    wait.until(ec.text_to_be_present_in_element((By.ID, "tree"), "UBND tỉnh Phú Thọ"))
    click_and_load(browser, By.LINK_TEXT, "UBND tỉnh Phú Thọ")
    wait.until(ec.text_to_be_present_in_element((By.ID, "tree"), "UBND huyện Đoan Hùng"))
    click_and_load(browser, By.LINK_TEXT, "UBND huyện Đoan Hùng")
    wait.until(ec.text_to_be_present_in_element((By.ID, "tree"), "UBND xã Chân Mộng"))
    entries = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#tree li")]
    assert len(entries) == 2
    assert "UBND xã Minh Lương" in entries[1] and "cấp xã" in entries[1]

    click_and_load(browser, By.LINK_TEXT, "English")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Directory of units"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert "commune" in browser.find_element(By.ID, "tree").text


@pytest.mark.usefixtures("signing_tokens", "registered_certificates")
def test_a_leader_signs_and_the_clerk_issues_and_sends_in_the_browser(
    live_server: str, browser: webdriver.Chrome, services: Services
) -> None:
    """Compose with recipients, sign, issue, confirm the units they name, send: no API call."""
    from docexchange.services import exchange
    from docexchange.storage.models import InboxEntry

    wait = WebDriverWait(browser, 30, ignored_exceptions=SETTLING)

    # The clerk uploads the final PDF, addressed to every commune of the district.
    sign_in(browser, live_server, "pt.vanthu")
    browser.get(f"{live_server}/documents/new")
    limits = browser.find_element(By.ID, "file-hint").text
    assert limits == "Tệp PDF bản cuối, không đặt mật khẩu; tối đa 50 MB."
    options = {
        o.get_attribute("value"): o.get_attribute("textContent")
        for o in browser.find_elements(By.CSS_SELECTOR, "#recipient-options option")
    }
    assert options["communes:000.00.12.H45"] == "Tất cả xã, phường thuộc UBND huyện Đoan Hùng"
    assert options["000.21.12.H45"] == "UBND xã Chân Mộng"
    pdf_path = Path(tempfile.mkdtemp()) / "quyet-dinh.pdf"
    pdf_path.write_bytes(make_pdf(text="Quyet dinh thu nghiem"))
    browser.find_element(By.ID, "file").send_keys(str(pdf_path))
    browser.find_element(By.ID, "subject").send_keys("Về việc thử nghiệm ký số trên trình duyệt")
    Select(browser.find_element(By.ID, "doc_type")).select_by_value("QĐ")
    Select(browser.find_element(By.ID, "urgency")).select_by_value("khan")
    browser.find_element(By.ID, "recipient-1").send_keys("communes:000.00.12.H45")
    click_and_load(browser, By.ID, "upload")
    wait.until(ec.text_to_be_present_in_element((By.ID, "state"), "dự thảo"))
    document_url = browser.current_url
    # The pages come first, as pictures (no PDF plug-in needed), the forms after them.
    pages = browser.find_elements(By.CSS_SELECTOR, "#preview img.page")
    assert [p.get_attribute("alt") for p in pages] == ["Trang 1/1"]
    wait.until(lambda _d: browser.execute_script("return arguments[0].naturalWidth", pages[0]))
    assert browser.find_element(By.ID, "download").get_attribute("href").endswith("/file")

    # ... and submits it to the chairman, with a note.
    Select(browser.find_element(By.ID, "signer")).select_by_value("pt.lanhdao")
    browser.find_element(By.ID, "note").send_keys("Kính trình Chủ tịch ký")
    click_and_load(browser, By.ID, "submit")
    submitted = wait.until(ec.presence_of_element_located((By.ID, "submitted")))
    assert (
        "Đã trình Nguyễn Văn Tỉnh" in submitted.text and "Kính trình Chủ tịch ký" in submitted.text
    )

    # The leader finds it at the top of "Chờ ký", with the note; mistypes the PIN, then signs.
    sign_in(browser, live_server, "pt.lanhdao")
    click_and_load(browser, By.ID, "queue-sign")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Văn bản chờ tôi ký"))
    first = browser.find_element(By.CSS_SELECTOR, "#documents tbody tr")
    assert "thử nghiệm ký số trên trình duyệt" in first.text
    assert "Ghi chú: Kính trình Chủ tịch ký" in first.text and "Khẩn" in first.text
    click_and_load(browser, By.PARTIAL_LINK_TEXT, "thử nghiệm ký số trên trình duyệt")
    browser.find_element(By.ID, "pin").send_keys("000000")
    click_and_load(browser, By.ID, "act")
    alert = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "p.flash.error")))
    assert alert.text == "Sai mã PIN. Còn 4 lần thử trước khi thiết bị ký bị khóa."
    browser.find_element(By.ID, "pin").send_keys("123456")
    click_and_load(browser, By.ID, "act")
    wait.until(ec.text_to_be_present_in_element((By.ID, "state"), "đã ký"))
    assert "Nguyễn Văn Tỉnh" in browser.find_element(By.ID, "signatures").text

    # The clerk issues it: number and organisation signature.
    sign_in(browser, live_server, "pt.vanthu")
    click_and_load(browser, By.ID, "queue-issue")
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Văn bản chờ ban hành"))
    browser.get(document_url)
    browser.find_element(By.ID, "pin").send_keys("123456")
    click_and_load(browser, By.ID, "act")
    wait.until(ec.text_to_be_present_in_element((By.ID, "state"), "đã ban hành"))
    assert browser.find_element(By.ID, "number").text == "01/QĐ-UBND"
    assert "Đã cấp số và ban hành." in browser.find_element(By.CSS_SELECTOR, "p.flash.done").text
    signatures = browser.find_element(By.ID, "signatures").text
    assert "Chữ ký cá nhân" in signatures and "Chữ ký cơ quan, tổ chức" in signatures

    # Before sending, the page names the units the selector expands to, with their count.
    assert browser.find_element(By.ID, "expanded-count").text == "Số đơn vị sẽ nhận: 2"
    named = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#expanded li")]
    assert named == ["UBND xã Chân Mộng", "UBND xã Minh Lương"]
    click_and_load(browser, By.ID, "send")
    alert = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "p.flash.sent")))
    assert "2" in alert.text
    assert exchange.deliver_pending(services).delivered == 2
    with services.sessions() as session:
        arrived = {(e.recipient_code, e.status_code) for e in session.query(InboxEntry).all()}
    assert arrived == {("000.21.12.H45", "01"), ("000.22.12.H45", "01")}

    # Each commune's clerk finds it in the inbox: "01 đã đến", from the province by name.
    for clerk in ("cm.vanthu", "ml.vanthu"):
        sign_in(browser, live_server, clerk)
        click_and_load(browser, By.ID, "nav-inbox")
        row = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#inbox tbody tr")))
        assert "thử nghiệm ký số trên trình duyệt" in row.text and "01 đã đến" in row.text
        assert "UBND tỉnh Phú Thọ" in row.text and "Khẩn" in row.text


@pytest.mark.usefixtures("signing_tokens")
def test_a_leader_signs_twenty_submitted_documents_with_one_pin_in_the_browser(
    live_server: str, browser: webdriver.Chrome, client: Any, as_user: Any, services: Services
) -> None:
    from sqlalchemy import func, select

    from docexchange.storage.models import DocumentSignature
    from tests.web.test_documents import upload

    clerk = as_user("pt.vanthu")
    for n in range(20):
        doc_id = upload(client, clerk, subject=f"Văn bản trình ký số {n + 1:02d}").get_json()["id"]
        submitted = client.post(
            f"/api/v1/documents/{doc_id}/submit", json={"signer": "pt.lanhdao"}, headers=clerk
        )
        assert submitted.status_code == 200
    wait = WebDriverWait(browser, 60, ignored_exceptions=SETTLING)
    sign_in(browser, live_server, "pt.lanhdao")
    click_and_load(browser, By.ID, "queue-sign")
    wait.until(ec.element_to_be_clickable((By.ID, "select-all"))).click()
    assert (
        len([b for b in browser.find_elements(By.CSS_SELECTOR, "input.pick") if b.is_selected()])
        == 20
    )
    click_and_load(browser, By.ID, "batch-review")
    assert browser.find_element(By.ID, "batch-count").text == "Số văn bản sẽ ký: 20"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#batch-list tbody tr")) == 20
    browser.find_element(By.ID, "pin").send_keys("123456")
    click_and_load(browser, By.ID, "batch-act")
    summary = wait.until(ec.presence_of_element_located((By.ID, "batch-summary")))
    assert summary.text.startswith("Đã ký 20/20 văn bản bằng chứng thư số")
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DocumentSignature)) == 20


@pytest.mark.usefixtures("signing_tokens")
def test_a_leader_returns_a_draft_and_the_clerk_reads_why_in_the_browser(
    live_server: str, browser: webdriver.Chrome, client: Any, as_user: Any
) -> None:
    from tests.web.test_documents import upload

    clerk = as_user("pt.vanthu")
    doc_id = upload(client, clerk, subject="Dự thảo cần sửa").get_json()["id"]
    wait = WebDriverWait(browser, 30, ignored_exceptions=SETTLING)
    sign_in(browser, live_server, "pt.lanhdao")
    browser.get(f"{live_server}/documents/{doc_id}")
    browser.find_element(By.ID, "return-reason").send_keys("Bổ sung căn cứ pháp lý")
    click_and_load(browser, By.ID, "return")
    alert = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "p.flash.returned")))
    assert alert.text == "Đã trả lại người soạn thảo."
    assert "Dự thảo cần sửa" not in browser.find_element(By.ID, "documents").text
    sign_in(browser, live_server, "pt.vanthu")
    browser.get(f"{live_server}/documents/{doc_id}")
    returned = wait.until(ec.presence_of_element_located((By.ID, "returned")))
    assert returned.text.startswith("Đã bị Nguyễn Văn Tỉnh trả lại lúc ")
    assert returned.text.endswith(": Bổ sung căn cứ pháp lý")


@pytest.mark.usefixtures("signing_tokens")
def test_anyone_checks_a_signed_pdf_on_the_public_page(
    live_server: str, browser: webdriver.Chrome, services: Services, client: Any, as_user: Any
) -> None:
    """A new visitor, not signed in, uploads an issued PDF and reads the verdict in Vietnamese."""
    from tests.web.test_documents import signed_and_issued

    body = signed_and_issued(client, as_user)
    pdf = client.get(f"/api/v1/documents/{body['id']}/file", headers=as_user("pt.vanthu")).data
    folder = Path(tempfile.mkdtemp())
    (folder / "van-ban-da-ky.pdf").write_bytes(pdf)
    tampered = bytearray(pdf)
    tampered[tampered.index(b"trang 1")] = ord("T")
    (folder / "van-ban-bi-sua.pdf").write_bytes(bytes(tampered))

    wait = WebDriverWait(browser, 30, ignored_exceptions=SETTLING)
    browser.get(f"{live_server}/login")
    click_and_load(browser, By.LINK_TEXT, "Kiểm tra văn bản")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Kiểm tra văn bản ký số"
    browser.find_element(By.ID, "file").send_keys(str(folder / "van-ban-da-ky.pdf"))
    click_and_load(browser, By.ID, "check")
    overall = wait.until(ec.presence_of_element_located((By.ID, "overall")))
    assert overall.text == "Hợp lệ: có chữ ký số của người có thẩm quyền và của cơ quan, tổ chức."
    lines = browser.find_element(By.ID, "signatures").text
    assert "Chữ ký cá nhân: Nguyễn Văn Tỉnh — hợp lệ" in lines
    assert "Chữ ký cơ quan, tổ chức: UBND tỉnh Phú Thọ (000.00.00.H45) — hợp lệ" in lines
    # The citizen ID in the leader's certificate is masked on the public page.
    import re

    assert re.search(r"CCCD:\d{4}\*{6}\d{2}", lines), lines
    assert not re.search(r"CCCD:\d{12}", lines)
    assert "Do " in lines and "cấp, số hiệu" in lines  # issuer and serial
    assert "hiệu lực từ " in lines  # and the certificate's validity

    browser.find_element(By.ID, "file").send_keys(str(folder / "van-ban-bi-sua.pdf"))
    click_and_load(browser, By.ID, "check")
    overall = wait.until(ec.presence_of_element_located((By.ID, "overall")))
    assert overall.text == "Không hợp lệ."
    tampered_lines = browser.find_element(By.ID, "signatures").text
    assert "không hợp lệ" in tampered_lines
    assert "Nội dung đã ký bị thay đổi sau khi ký." in tampered_lines


@pytest.mark.usefixtures("signing_tokens", "registered_certificates")
def test_a_commune_clerk_receives_checks_and_accepts_in_the_browser(
    live_server: str, browser: webdriver.Chrome, services: Services, client: Any, as_user: Any
) -> None:
    """The province sends; the commune clerk finds it in the inbox, valid, and accepts it."""
    from docexchange.services import exchange
    from tests.web.test_documents import signed_and_issued

    body = signed_and_issued(client, as_user, recipients=["000.21.12.H45"], urgency="hoa_toc")
    assert (
        client.post(f"/api/v1/documents/{body['id']}/send", headers=as_user("pt.vanthu"))
    ).status_code == 202
    assert exchange.deliver_pending(services).delivered == 1

    wait = WebDriverWait(browser, 30, ignored_exceptions=SETTLING)
    sign_in(browser, live_server, "cm.vanthu")
    click_and_load(browser, By.ID, "nav-inbox")
    row = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#inbox tbody tr")))
    assert "Hỏa tốc" in row.text and "hợp lệ" in row.text and "01 đã đến" in row.text
    click_and_load(browser, By.LINK_TEXT, "Về việc thử nghiệm ký số")
    overall = wait.until(ec.presence_of_element_located((By.ID, "overall")))
    assert overall.text.startswith("Hợp lệ")
    click_and_load(browser, By.ID, "move-03")
    status = wait.until(ec.presence_of_element_located((By.ID, "status")))
    assert status.text == "03 đã tiếp nhận"
    assert "03 đã tiếp nhận — cm.vanthu" in browser.find_element(By.ID, "history").text


@pytest.mark.usefixtures("signing_tokens", "registered_certificates")
def test_a_district_clerk_accepts_and_forwards_to_a_commune_in_the_browser(
    live_server: str, browser: webdriver.Chrome, services: Services, client: Any, as_user: Any
) -> None:
    """The province sends to the district; its clerk accepts and forwards to one commune."""
    from docexchange.services import exchange
    from tests.web.test_documents import signed_and_issued

    body = signed_and_issued(client, as_user, recipients=["000.00.12.H45"])
    assert (
        client.post(f"/api/v1/documents/{body['id']}/send", headers=as_user("pt.vanthu"))
    ).status_code == 202
    assert exchange.deliver_pending(services).delivered == 1

    wait = WebDriverWait(browser, 30, ignored_exceptions=SETTLING)
    sign_in(browser, live_server, "dh.vanthu")
    click_and_load(browser, By.ID, "nav-inbox")
    click_and_load(browser, By.LINK_TEXT, "Về việc thử nghiệm ký số")
    assert not browser.find_elements(By.ID, "forward")  # not before it is accepted
    click_and_load(browser, By.ID, "move-03")
    wait.until(ec.presence_of_element_located((By.ID, "forward")))
    browser.find_element(By.CSS_SELECTOR, "#forward input[value='000.21.12.H45']").click()
    click_and_load(browser, By.ID, "forward-send")
    alert = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[role=alert]")))
    assert "Đã chuyển tiếp" in alert.text
    assert exchange.deliver_pending(services).delivered == 1
    browser.refresh()
    forwarded = wait.until(ec.presence_of_element_located((By.ID, "forwarded")))
    assert "000.21.12.H45" in forwarded.text and "01 đã đến" in forwarded.text
    assert "000.22.12.H45" not in forwarded.text


def test_an_auditor_reads_the_ratio_dashboard_and_drills_down_in_the_browser(
    live_server: str, browser: webdriver.Chrome, client: Any, as_user: Any
) -> None:
    """Paper registered by both communes; the auditor ranks them and opens a figure.

    On the real clock (Chromium keeps its own): the paper is dated the day the test runs,
    the report covers that day's month in Vietnam, whichever it is."""
    today = today_vn()
    month = period_of(PeriodKind.MONTH, today)
    for clerk, direction in (("cm.vanthu", "sent"), ("ml.vanthu", "received")):
        registered = client.post(
            "/api/v1/paper-records",
            json={
                "direction": direction,
                "date": today.isoformat(),
                "number": "7/UBND",
                "subject": "Văn bản giấy",
                "counterpart": "Huyện",
            },
            headers=as_user(clerk),
        )
        assert registered.status_code == 201

    wait = WebDriverWait(browser, 30, ignored_exceptions=SETTLING)
    sign_in(browser, live_server, "thanhtra")
    click_and_load(browser, By.ID, "nav-reports")
    unit = wait.until(ec.presence_of_element_located((By.ID, "unit")))
    unit.clear()
    unit.send_keys("000.00.12.H45")
    for field, value in (("from", month.first.isoformat()), ("to", month.last.isoformat())):
        browser.execute_script(
            "document.getElementById(arguments[0]).value = arguments[1]", field, value
        )
    click_and_load(browser, By.ID, "show")
    ranking = wait.until(ec.presence_of_element_located((By.ID, "ranking")))
    rows = ranking.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert [r.get_attribute("data-unit") for r in rows] == ["000.21.12.H45", "000.22.12.H45"]
    assert all("below-target" in (r.get_attribute("class") or "") for r in rows)
    assert "0.0 %" in rows[0].text and "chưa đạt" in rows[0].text
    click_and_load(browser, By.CSS_SELECTOR, "#row-sent td a")
    behind = wait.until(ec.presence_of_element_located((By.ID, "behind")))
    assert "7/UBND" in behind.text and "sổ văn bản giấy" in behind.text


def test_lists_become_cards_at_a_phones_width_and_roles_are_named(
    live_server: str, browser: webdriver.Chrome
) -> None:
    """At 390 px the admin's users list is one card per person, each value named by its
    column, roles in Vietnamese; nothing is wider than the screen."""
    wait = WebDriverWait(browser, 30, ignored_exceptions=SETTLING)
    browser.set_window_size(390, 844)
    try:
        sign_in(browser, live_server, "admin")
        browser.get(f"{live_server}/users")
        row = wait.until(
            ec.presence_of_element_located((By.CSS_SELECTOR, "#users tr[data-user='pt.vanthu']"))
        )
        cells = row.find_elements(By.TAG_NAME, "td")
        wait.until(lambda _d: cells[0].get_attribute("data-label") == "Tên đăng nhập")
        assert cells[3].get_attribute("data-label") == "Vai trò"
        ticked = cells[3].find_elements(By.CSS_SELECTOR, "label:has(input:checked)")
        assert [label.text for label in ticked] == ["Văn thư"]  # an admin edits them here
        assert row.value_of_css_property("display") == "block"
        pages = [
            "/users",
            "/directory",
            "/admin/tokens",
            "/admin/trust",
            "/admin/exchange",
            "/reports",
            "/registers/incoming",
            "/registers/outgoing",
            "/inbox",
            "/documents",
            "/",
        ]
        for index, path in enumerate(pages):
            if index:
                browser.get(f"{live_server}{path}")
            wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
            width = browser.execute_script("return document.documentElement.clientWidth")
            scroll = browser.execute_script("return document.documentElement.scrollWidth")
            assert scroll <= width, (path, scroll, width)
            assert "Có lỗi" not in browser.find_element(By.TAG_NAME, "h1").text, path
            for folded in browser.find_elements(By.CSS_SELECTOR, "details.more-filters"):
                # A list's filters fold away on a phone: the list comes first.
                assert folded.get_attribute("open") is None, path
            if os.environ.get("DX_SCREENSHOTS"):
                name = (path.strip("/").replace("/", "-") or "home") + "-390.png"
                browser.save_screenshot(os.path.join(os.environ["DX_SCREENSHOTS"], name))
    finally:
        browser.set_window_size(1280, 900)


@pytest.mark.usefixtures("signing_tokens", "registered_certificates")
def test_a_clerk_searches_filters_and_pages_then_the_leader_assigns_in_the_browser(
    live_server: str, browser: webdriver.Chrome, services: Services, client: Any, as_user: Any
) -> None:
    """251 arrivals in Chân Mộng's inbox: the clerk finds the Quyết định by typing without
    marks, narrows to what is overdue, pages to the end; the leader assigns it with an
    instruction and a deadline; the clerk finds it on the home page."""
    from datetime import date

    from docexchange.services import exchange
    from tests.clock import office_at, vn
    from tests.web.test_documents import signed_and_issued
    from tests.web.test_search import add_arrivals

    with office_at(services, vn(date(2027, 3, 1), 8, 0)):
        subject = "Quyết định ban hành quy chế văn thư, lưu trữ"
        body = signed_and_issued(
            client, as_user, recipients=["000.21.12.H45"], subject=subject, doc_type="QĐ"
        )
        sent = client.post(f"/api/v1/documents/{body['id']}/send", headers=as_user("pt.vanthu"))
        assert sent.status_code == 202
        assert exchange.deliver_pending(services).delivered == 1
        add_arrivals(services, 250, due_date=lambda n: date(2027, 2, 20) if n < 7 else None)

        wait = WebDriverWait(browser, 30, ignored_exceptions=SETTLING)
        sign_in(browser, live_server, "cm.vanthu")
        click_and_load(browser, By.ID, "nav-inbox")
        assert "1\u201350 trong 251" in browser.find_element(By.ID, "page-count").text
        browser.find_element(By.ID, "q").send_keys("quyet dinh")
        click_and_load(browser, By.ID, "search")
        rows = browser.find_elements(By.CSS_SELECTOR, "#inbox tbody tr")
        assert [r.find_element(By.TAG_NAME, "a").text for r in rows] == [subject]
        assert "q=quyet+dinh" in browser.current_url

        click_and_load(browser, By.ID, "clear")
        browser.find_element(By.ID, "overdue").click()
        click_and_load(browser, By.ID, "search")
        overdue = browser.find_elements(By.CSS_SELECTOR, "#inbox tbody tr")
        assert len(overdue) == 7 and all("quá hạn" in r.text for r in overdue)

        click_and_load(browser, By.ID, "clear")
        pages = 1
        while browser.find_elements(By.ID, "page-next"):
            click_and_load(browser, By.ID, "page-next")
            pages += 1
        assert pages == 6 and browser.find_element(By.ID, "page-number").text == "Trang 6/6"
        assert "251\u2013251 trong 251" in browser.find_element(By.ID, "page-count").text

        browser.get(f"{live_server}/inbox?q=quyet+dinh")
        click_and_load(browser, By.LINK_TEXT, subject)
        click_and_load(browser, By.ID, "move-03")
        entry_url = browser.current_url

        sign_in(browser, live_server, "cm.lanhdao")
        browser.get(entry_url)
        Select(browser.find_element(By.ID, "assignee")).select_by_value("cm.vanthu")
        browser.find_element(By.ID, "instruction-text").send_keys("Văn thư rà soát, báo cáo")
        due = browser.find_element(By.ID, "due-date")
        browser.execute_script("arguments[0].value = '2027-03-03'", due)
        click_and_load(browser, By.ID, "move-04")
        status = wait.until(ec.presence_of_element_located((By.ID, "status")))
        assert status.text.startswith("04 đã phân công")

        sign_in(browser, live_server, "cm.vanthu")
        digest = browser.find_element(By.ID, "digest").text
        assert subject in digest and "03/03/2027" in digest
        assert "Văn thư rà soát, báo cáo" in digest
        shots = os.environ.get("DX_SCREENSHOTS")
        if shots:
            browser.get(f"{live_server}/inbox?q=quyet+dinh")
            browser.save_screenshot(str(Path(shots) / "inbox-search.png"))


def test_a_clerk_sets_up_two_step_sign_in_at_a_phones_width(
    live_server: str, browser: webdriver.Chrome
) -> None:
    """From the name in the menu to the recovery codes, on a 390 px wide screen; the next
    sign-in asks for the code."""
    import pyotp

    browser.set_window_size(390, 844)
    sign_in(browser, live_server, "cm.vanthu")
    click_and_load(browser, By.ID, "nav-account")
    click_and_load(browser, By.ID, "totp-enrol")
    qr = browser.find_element(By.CSS_SELECTOR, "#totp-qr svg")
    assert qr.size["width"] > 100 and qr.location["x"] + qr.size["width"] <= 390
    secret = browser.find_element(By.ID, "totp-secret").text
    shots = os.environ.get("DX_SCREENSHOTS")
    if shots:
        browser.save_screenshot(str(Path(shots) / "account-totp-390.png"))
    browser.find_element(By.ID, "code").send_keys(pyotp.TOTP(secret).now())
    click_and_load(browser, By.ID, "totp-confirm")
    codes = browser.find_elements(By.CSS_SELECTOR, "#recovery-codes li")
    assert len(codes) == 10

    browser.delete_all_cookies()
    browser.get(f"{live_server}/login")
    browser.find_element(By.ID, "username").send_keys("cm.vanthu")
    browser.find_element(By.ID, "password").send_keys("demo-Password-1")
    click_and_load(browser, By.ID, "submit")
    alert = browser.find_element(By.CSS_SELECTOR, "[role=alert]")
    assert "Hãy nhập mã từ ứng dụng xác thực" in alert.text
    browser.find_element(By.ID, "password").send_keys("demo-Password-1")
    browser.find_element(By.ID, "totp").send_keys(pyotp.TOTP(secret).now())
    click_and_load(browser, By.ID, "submit")
    assert "Xin chào" in browser.find_element(By.TAG_NAME, "h1").text


@pytest.mark.usefixtures("signing_tokens", "registered_certificates")
def test_an_admin_adds_a_commune_and_makes_its_seal_token_in_the_browser(
    live_server: str, browser: webdriver.Chrome, client: Any, as_user: Any
) -> None:
    """The directory page adds a unit where the admin stands; the token page then offers the
    new unit (once it has a clerk), takes the PIN twice and lists the token by the unit's name."""
    wait = WebDriverWait(browser, 30, ignored_exceptions=SETTLING)
    browser.set_window_size(1280, 1800)
    sign_in(browser, live_server, "admin")
    browser.get(f"{live_server}/directory?code=000.00.12.H45")
    assert Select(browser.find_element(By.ID, "add-level")).first_selected_option.text == "cấp xã"
    browser.find_element(By.ID, "add-code").send_keys("000.41.12.H45")
    browser.find_element(By.ID, "add-name").send_keys("UBND xã Hòa Bình")
    browser.find_element(By.ID, "add-abbreviation").send_keys("Hòa Bình")
    click_and_load(browser, By.ID, "add-unit-submit")
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".path strong"), "Hòa Bình"))
    shots = os.environ.get("DX_SCREENSHOTS")
    if shots:
        browser.save_screenshot(str(Path(shots) / "directory-added.png"))
    made = client.post(
        "/api/v1/users",
        json={
            "username": "hb.vanthu",
            "full_name": "Trịnh Thị Hòa",
            "unit_code": "000.41.12.H45",
            "password": "a-long-password-1",
            "roles": ["clerk"],
        },
        headers=as_user("admin"),
    )
    assert made.status_code == 201
    browser.get(f"{live_server}/admin/tokens")
    Select(browser.find_element(By.ID, "unit-owner")).select_by_visible_text("UBND xã Hòa Bình")
    browser.find_element(By.ID, "unit-pin").send_keys("271828")
    browser.find_element(By.ID, "unit-pin_again").send_keys("271828")
    click_and_load(browser, By.ID, "make-unit-token")
    row = wait.until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "tr[data-token='o:000.41.12.H45']"))
    )
    assert "Đơn vị: UBND xã Hòa Bình" in row.text and "dùng được" in row.text
    assert "271828" not in browser.page_source
    if shots:
        browser.save_screenshot(str(Path(shots) / "tokens-made.png"))
