#!/usr/bin/python3
# test_rate_browser.py - drives rate.html in headless Chromium (Debian's chromium,
# chromium-driver and python3-selenium) the way a rater would: the instruction
# screen, a name, answers by keyboard and by mouse, back and change an answer,
# a reload that resumes, the end screen and the download; then checks the
# downloaded CSV against what was clicked. Saves a screenshot of the page
# mid-way (SHOT). Usage: test_rate_browser.py PAGE_DIR DOWNLOAD_DIR SHOT
# Prints "BROWSER passed=N failed=M"; exit 3 when the browser cannot start.
import csv
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.keys import Keys

page_dir, download_dir, shot = sys.argv[1], sys.argv[2], sys.argv[3]
passed = failed = 0


def check(ok, label):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL " + label)


opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1366,768", "--disable-dev-shm-usage"):
    opts.add_argument(a)
opts.add_experimental_option("prefs", {"download.default_directory": download_dir,
                                       "download.prompt_for_download": False})
try:
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
except Exception as e:  # no browser here: the caller prints a skip
    print("cannot start Chromium: %s" % str(e).splitlines()[0])
    sys.exit(3)
driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": download_dir})
key = {row["id"]: row["truth"] for row in csv.DictReader(open(os.path.join(page_dir, "key.csv")))}
ids = list(key)
try:
    driver.get("file://" + os.path.abspath(os.path.join(page_dir, "rate.html")))
    el = driver.find_element
    visible = lambda i: el(By.ID, i).is_displayed()  # noqa: E731
    count = lambda: el(By.ID, "count").text  # noqa: E731
    check(visible("intro") and not visible("rate") and not visible("done"), "the instruction screen comes first")
    check(el(By.ID, "total").text == str(len(ids)), "the instructions say how many images")
    el(By.ID, "start").click()
    check(visible("intro"), "Start without a name stays on the instructions")
    el(By.ID, "rater").send_keys("Dr Test")
    el(By.ID, "start").click()
    check(visible("rate") and count() == "1 / %d" % len(ids), "Start shows image 1")
    body = el(By.TAG_NAME, "body")
    current = lambda: driver.execute_script("return IMAGES[state.pos].id")  # noqa: E731
    given = {}
    # image 1 by keyboard: "1" = real, sure; image 2: "6" = generated, sure
    given[current()] = ("real", 3)
    body.send_keys("1")
    given[current()] = ("fake", 3)
    body.send_keys("6")
    check(count() == "3 / %d" % len(ids), "two keys answer two images")
    # image 3 by mouse: "3 Real, a guess"
    given[current()] = ("real", 1)
    el(By.CSS_SELECTOR, "#answers button[data-a='real'][data-c='1']").click()
    check(count() == "4 / %d" % len(ids), "a click answers an image")
    # back (arrow key): image 3 again, its answer highlighted; change it by mouse
    body.send_keys(Keys.ARROW_LEFT)
    chosen = el(By.CSS_SELECTOR, "#answers button.chosen")
    check(count() == "3 / %d" % len(ids) and chosen.get_attribute("data-a") == "real" and
          chosen.get_attribute("data-c") == "1", "back shows the previous image with its answer")
    given[current()] = ("fake", 2)
    el(By.CSS_SELECTOR, "#answers button[data-a='fake'][data-c='2']").click()
    check(count() == "4 / %d" % len(ids), "changing an answer moves on")
    driver.save_screenshot(shot)
    # reload: resumes at image 4 with the name kept
    driver.refresh()
    check(visible("rate") and count() == "4 / %d" % len(ids), "a reload resumes where it stopped")
    body = el(By.TAG_NAME, "body")
    # the rest by keyboard: the right answer, except the last (wrong, a guess)
    while visible("rate"):
        i = current()
        last = count() == "%d / %d" % (len(ids), len(ids))
        truth = key[i]
        wrong = "real" if truth == "fake" else "fake"
        kind, conf = (wrong, 1) if last else (truth, 2)
        given[i] = (kind, conf)
        body.send_keys({("real", 2): "2", ("fake", 2): "5", ("real", 1): "3", ("fake", 1): "4"}[(kind, conf)])
    check(visible("done"), "after the last image: the end screen")
    # every image on the page has the same pixel size (nothing but pixels tells them apart)
    sizes = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        Promise.all(IMAGES.map((im) => new Promise((ok) => {
            const i = new Image(); i.onload = () => ok(i.naturalWidth + 'x' + i.naturalHeight); i.src = im.src;
        }))).then(done);""")
    check(len(sizes) == len(ids) and len(set(sizes)) == 1, "every image has the same size (%s)" % sorted(set(sizes)))
    el(By.ID, "download").click()
    path = None
    for _ in range(100):
        files = [f for f in os.listdir(download_dir) if f.endswith(".csv")]
        if files:
            path = os.path.join(download_dir, files[0])
            break
        time.sleep(0.1)
    check(path is not None and os.path.basename(path) == "answers-Dr_Test.csv", "Download answers saves answers-Dr_Test.csv")
    if path:
        # the file can appear before Chromium has written all of it: read it until it
        # holds every row or 10 s have passed (a CI run once read it short)
        for _ in range(100):
            rows = list(csv.DictReader(open(path)))
            if len(rows) >= len(ids):
                break
            time.sleep(0.1)
        check(len(rows) == len(ids), "the CSV has one row per image")
        check(all(r["rater"] == "Dr Test" for r in rows), "every row names the rater")
        check(all((r["answer"], int(r["confidence"])) == given[r["image"]] for r in rows),
              "every row holds the answer given last (the changed one included)")
        check(all(r["ms"].isdigit() for r in rows), "every row has the milliseconds taken")
finally:
    driver.quit()
correct = sum(given[i][0] == key[i] for i in given)
print("BROWSER passed=%d failed=%d correct=%d of=%d" % (passed, failed, correct, len(given)))
