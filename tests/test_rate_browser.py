#!/usr/bin/python3
# test_rate_browser.py - drives rate.html in headless Chromium (Debian's chromium,
# chromium-driver and python3-selenium) the way a rater would: the instruction
# screen, a name, answers by keyboard and by mouse, back and change an answer,
# a reload that resumes, the end screen and the download; then checks the
# downloaded CSV against what was clicked. Then a second rater on the same
# browser ("start over", which asks first), answers that must not count (a
# double-click, Enter on the clicked button, a key pressed twice at once, a
# held key), Save answers so far mid-way, and a browser that blocks site data (the
# page still works and says the answers are not kept). Saves a screenshot of the page mid-way (SHOT).
# Usage: test_rate_browser.py PAGE_DIR DOWNLOAD_DIR SHOT
# Prints "BROWSER passed=N failed=M"; exit 3 when the browser cannot start.
import csv
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
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


def fail_on_error(label, e):
    # an element the page lacks, a script error: one failed check, the run goes on
    check(False, "%s (%s)" % (label, str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__))


def settle():
    # the page ignores answers within 250 ms of showing an image (a double-click's
    # second click, a key pressed twice): a rater looks before answering, so does the test
    time.sleep(0.3)


def chromium(prefs):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1366,768", "--disable-dev-shm-usage"):
        opts.add_argument(a)
    opts.add_experimental_option("prefs", prefs)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


try:
    driver = chromium({"download.default_directory": download_dir, "download.prompt_for_download": False})
except Exception as e:  # no browser here: the caller prints a skip
    print("cannot start Chromium: %s" % str(e).splitlines()[0])
    sys.exit(3)
driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": download_dir})
key = {row["id"]: row["truth"] for row in csv.DictReader(open(os.path.join(page_dir, "key.csv")))}
ids = list(key)
url = "file://" + os.path.abspath(os.path.join(page_dir, "rate.html"))
given = {}
try:
    driver.get(url)
    el = driver.find_element
    visible = lambda i: el(By.ID, i).is_displayed()  # noqa: E731
    count = lambda: el(By.ID, "count").text  # noqa: E731
    check(visible("intro") and not visible("rate") and not visible("done"), "the instruction screen comes first")
    check(el(By.ID, "total").text == str(len(ids)), "the instructions say how many images")
    # rate score keeps whole names; the page keeps them short anyway
    check(el(By.ID, "rater").get_attribute("maxlength") == "100", "the name field takes at most 100 characters")
    el(By.ID, "start").click()
    check(visible("intro"), "Start without a name stays on the instructions")
    el(By.ID, "rater").send_keys("Dr Test")
    el(By.ID, "start").click()
    check(visible("rate") and count() == "1 / %d" % len(ids), "Start shows image 1")
    body = el(By.TAG_NAME, "body")
    current = lambda: driver.execute_script("return IMAGES[state.pos].id")  # noqa: E731
    # image 1 by keyboard: "1" = real, sure; image 2: "6" = generated, sure
    settle()
    given[current()] = ("real", 3)
    body.send_keys("1")
    settle()
    given[current()] = ("fake", 3)
    body.send_keys("6")
    check(count() == "3 / %d" % len(ids), "two keys answer two images")
    # image 3 by mouse: "3 Real, a guess"
    settle()
    given[current()] = ("real", 1)
    el(By.CSS_SELECTOR, "#answers button[data-a='real'][data-c='1']").click()
    check(count() == "4 / %d" % len(ids), "a click answers an image")
    # back (arrow key): image 3 again, its answer highlighted; change it by mouse
    body.send_keys(Keys.ARROW_LEFT)
    settle()
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
        settle()
        given[i] = (kind, conf)
        body.send_keys({("real", 2): "2", ("fake", 2): "5", ("real", 1): "3", ("fake", 1): "4"}[(kind, conf)])
    check(visible("done"), "after the last image: the end screen")
    # Backspace goes back from the end screen as the arrow does (it did nothing there)
    try:
        body.send_keys(Keys.BACKSPACE)
        check(visible("rate") and count() == "%d / %d" % (len(ids), len(ids)),
              "Backspace on the end screen shows the last image")
        el(By.ID, "next").click()
        check(visible("done"), "(setup) Next from the last image: the end screen again")
    except Exception as e:
        fail_on_error("Backspace on the end screen", e)
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

    # A second rater on this browser: the end screen offers to start over; it asks
    # first (Cancel keeps everything), then clears what this browser kept.
    answered = lambda: driver.execute_script("return answered()")  # noqa: E731
    try:
        restart = [b for b in driver.find_elements(By.CSS_SELECTOR, "#done button.restart") if b.is_displayed()]
        check(len(restart) == 1, "the end screen has a 'start over as a different rater' button")
        restart[0].click()
        alert = driver.switch_to.alert
        check("download" in alert.text.lower() and "Dr Test" in alert.text,
              "start over asks first, names the rater and says to download first (%r)" % alert.text)
        alert.dismiss()
        check(visible("done") and answered() == len(ids), "Cancel keeps the answers and the end screen")
        restart[0].click()
        driver.switch_to.alert.accept()
        check(visible("intro") and el(By.ID, "rater").get_attribute("value") == "" and answered() == 0,
              "OK: back to the instructions, no name, no answers")
        driver.refresh()
        check(visible("intro") and driver.execute_script("return localStorage.getItem(KEY)") is None,
              "after start over and a reload: the instructions, nothing kept in the browser")
    except Exception as e:
        fail_on_error("start over as a different rater", e)

    # Answers that must not count: each case leaves the count at one per image really shown.
    # (from a clean browser, whatever start over did)
    try:
        driver.execute_script("localStorage.clear()")
        driver.refresh()
        el(By.ID, "rater").send_keys("Dr Two")
        el(By.ID, "start").click()
        press = "document.dispatchEvent(new KeyboardEvent('keydown', {key: arguments[0], repeat: arguments[1]}));"
        pos = lambda: driver.execute_script("return state.pos")  # noqa: E731
        # each case from where the last one left off: one image answered, one step on
        settle()
        before = (answered(), pos())
        driver.execute_script(press + press.replace("[0]", "[2]").replace("[1]", "[3]"), "1", False, "6", False)
        check((answered(), pos()) == (before[0] + 1, before[1] + 1), "a second key at once does not answer the next image")
        settle()
        before = (answered(), pos())
        driver.execute_script("const b = document.querySelector(\"#answers button[data-c='2']\"); b.click(); b.click();")
        check((answered(), pos()) == (before[0] + 1, before[1] + 1), "a double-click answers one image")
        settle()
        before = (answered(), pos())
        el(By.CSS_SELECTOR, "#answers button[data-a='fake'][data-c='3']").click()
        settle()
        ActionChains(driver).send_keys(Keys.ENTER).perform()
        settle()
        ActionChains(driver).send_keys(Keys.SPACE).perform()
        check((answered(), pos()) == (before[0] + 1, before[1] + 1),
              "Enter or Space after a click does not answer the next image (the button lost focus)")
        settle()
        before = (answered(), pos())
        driver.execute_script(press, "2", False)
        settle()   # (a held key repeats after ~0.5 s: past the 250 ms)
        driver.execute_script(press + press, "2", True)
        check((answered(), pos()) == (before[0] + 1, before[1] + 1), "a held key answers one image")
        # a browser shortcut (Ctrl+1 picks a tab, Alt+Left goes back a page, Cmd+2 on a Mac)
        # is not an answer: the rater meant the browser, not the image
        settle()
        before = (answered(), pos())
        for mod in ("ctrlKey", "altKey", "metaKey"):
            driver.execute_script("document.dispatchEvent(new KeyboardEvent('keydown', {key: arguments[0], %s: true}));"
                                  % mod, "1")
            driver.execute_script("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowLeft', %s: true}));"
                                  % mod)
        check((answered(), pos()) == before, "Ctrl, Alt or Cmd with a digit or an arrow neither answers nor goes back")
    except Exception as e:
        fail_on_error("answers that must not count", e)

    # The page open in two tabs (its file opened twice): answers given in one tab must
    # not be written over by the other tab's older copy when it answers next.
    try:
        driver.execute_script("localStorage.clear()")
        driver.refresh()
        el(By.ID, "rater").send_keys("Dr Tabs")
        el(By.ID, "start").click()
        first = driver.current_window_handle
        driver.switch_to.new_window("tab")
        driver.get(url)
        check(visible("rate") and count() == "1 / %d" % len(ids), "(setup) a second tab resumes at image 1")
        settle()
        el(By.TAG_NAME, "body").send_keys("1")
        settle()
        el(By.TAG_NAME, "body").send_keys("2")
        driver.close()
        driver.switch_to.window(first)
        check(count() == "3 / %d" % len(ids), "the first tab follows the second: image 3 (%s)" % count())
        settle()
        el(By.TAG_NAME, "body").send_keys("5")
        driver.refresh()
        check(answered() == 3 and count() == "4 / %d" % len(ids),
              "after answers in both tabs and a reload: all 3 kept (%d, at %s)" % (answered(), count()))
    except Exception as e:
        fail_on_error("two tabs", e)

    # Save answers so far, mid-way (a browser that clears site data when it closes lost a
    # rater's answers, and the file could be had only at the end: a referee's reading); the
    # name's letters of any script are kept in the file's name (they were all '_')
    try:
        driver.execute_script("localStorage.clear()")
        driver.refresh()
        el(By.ID, "rater").send_keys("Dr \u00d6'Brien")
        el(By.ID, "start").click()
        for k in ("1", "6"):
            settle()
            el(By.TAG_NAME, "body").send_keys(k)
        el(By.ID, "save").click()
        want = os.path.join(download_dir, "answers-Dr_\u00d6_Brien.csv")
        rows = []
        for _ in range(100):
            if os.path.exists(want):
                rows = list(csv.DictReader(open(want, encoding="utf-8")))
                if len(rows) >= 2:
                    break
            time.sleep(0.1)
        check(len(rows) == 2 and all(r["rater"] == "Dr \u00d6'Brien" for r in rows) and
              [r["answer"] for r in rows] == ["real", "fake"],
              "Save answers so far mid-way: answers-Dr_\u00d6_Brien.csv with the 2 answers given (%s)" %
              sorted(os.listdir(download_dir)))
        check(visible("rate") and count() == "3 / %d" % len(ids), "... and the rating goes on at image 3")
    except Exception as e:
        fail_on_error("save answers so far", e)
finally:
    driver.quit()

# A browser that blocks site data: reading local storage throws. The page must
# still work, and say that the answers are not kept.
try:
    blocked = chromium({"profile.default_content_setting_values.cookies": 2})
    try:
        blocked.get(url)
        throws = blocked.execute_script("try { localStorage.getItem('x'); return false; } catch (e) { return true; }")
        check(throws, "(setup) with site data blocked, local storage throws")
        note = blocked.find_elements(By.ID, "nostore")
        check(len(note) == 1 and note[0].is_displayed() and "one sitting" in note[0].text,
              "site data blocked: a visible note says the answers are not kept")
        blocked.find_element(By.ID, "rater").send_keys("Dr Three")
        blocked.find_element(By.ID, "start").click()
        settle()
        blocked.find_element(By.TAG_NAME, "body").send_keys("2")
        check(blocked.find_element(By.ID, "count").text == "2 / %d" % len(ids),
              "site data blocked: Start and answering still work")
    finally:
        blocked.quit()
except Exception as e:
    fail_on_error("site data blocked", e)
correct = sum(given[i][0] == key[i] for i in given)
print("BROWSER passed=%d failed=%d correct=%d of=%d" % (passed, failed, correct, len(given)))
