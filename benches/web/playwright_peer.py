#!/usr/bin/env python3
"""The peer of benches/web/kuroko: Playwright for Python on examples/web-intake, the same steps
with the same data, in the same headless Chromium (/usr/bin/chromium; Playwright's own browser
download is not used). Per item: 交付申請入力 (first) or 新規, 8 fields, the 住所検索 popup,
登録 with its confirm dialog, the wait for 登録しました. Login happens before timing; the first
item (menu click, first form load) is dropped from the figures, as on the kuroko side.
Prints one JSON line per figure. Usage: playwright_peer.py URL [ITEMS]"""
import json, statistics, sys, time
from importlib.metadata import version

t_driver = time.perf_counter()
from playwright.sync_api import Error, sync_playwright

url = sys.argv[1]
items = int(sys.argv[2]) if len(sys.argv) > 2 else 30
TOWN = "埼玉県深谷市仲町"


def p90(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]


with sync_playwright() as p:
    t_launch = time.perf_counter()
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
    page = browser.new_page()
    page.goto(url)  # waits for the load event
    t_loaded = time.perf_counter()

    page.get_by_label("ユーザーID").fill("kuroko")
    page.get_by_label("パスワード").fill("kuroko")
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url("**/main")
    menu = page.frame(name="menu")
    content = page.frame(name="content")

    def confirm(dialog):
        if "この内容で登録しますか" in dialog.message:
            dialog.accept()
        else:
            dialog.dismiss()
    page.on("dialog", confirm)

    # The form's labels are <th> cells: get_by_label does not see them.
    def field(label, tag="input"):
        return content.locator(f"xpath=//th[normalize-space()='{label}']/following-sibling::td//{tag}")

    times = []
    closed_during_click = 0
    for i in range(items):
        no = f"W{10001 + i}"
        t = time.perf_counter()
        if i == 0:
            menu.get_by_text("交付申請入力").click()
            content.wait_for_url("**/form")
        else:
            content.get_by_role("button", name="新規").click()
            content.get_by_text("登録しました").wait_for(state="hidden")
        field("受付番号").fill(no)
        field("氏名").fill("髙橋 花子")
        field("フリガナ").fill("ﾀｶﾊｼ ﾊﾅｺ")
        field("生年月日").fill("H01/01/08")

        with page.expect_popup() as popup_info:
            content.get_by_role("button", name="住所検索").click()
        popup = popup_info.value
        popup.get_by_placeholder("町名を入力").fill(TOWN)
        popup.get_by_role("button", name="検索").click()
        # 選択 closes the popup: the click sometimes fails with "Target page, context or browser
        # has been closed" (microsoft/playwright#26900); the usual workaround is to expect the
        # close and let that error pass.
        with popup.expect_event("close"):
            try:
                popup.get_by_role("button", name="選択").click()
            except Error:
                if not popup.is_closed():
                    raise
                closed_during_click += 1
        got = field("住所").input_value()
        if got != TOWN:
            sys.exit(f"{no}: the 住所検索 popup wrote {got}, not {TOWN}")
        field("番地").fill("３-２")
        field("交付通数", "select").select_option(label="1通")
        field("使用目的", "select").select_option(label="各種手続")
        field("本籍・筆頭者の記載").check()

        content.get_by_role("button", name="登録").click()
        content.get_by_text(f"登録しました（受付番号：{no}）").wait_for()
        times.append(time.perf_counter() - t)
    chromium = browser.version
    browser.close()

tool = f"playwright {version('playwright')} (python, chromium {chromium})"
timed = times[1:] if len(times) > 1 else times
print(json.dumps({"area": "web", "tool": tool, "case": "item", "s_min": round(min(timed), 3),
                  "s_median": round(statistics.median(timed), 3), "s_p90": round(p90(timed), 3),
                  "s_max": round(max(timed), 3), "runs": len(timed), "items": items,
                  "first_item_s": round(times[0], 3),
                  "popup_closed_during_click": closed_during_click}))
print(json.dumps({"area": "web", "tool": tool, "case": "first page",
                  "ms": round((t_loaded - t_launch) * 1000), "ms_with_driver": round((t_loaded - t_driver) * 1000)}))
