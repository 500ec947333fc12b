// rate.c - can a clinician tell real chest X-rays from generated ones?
//
// Build: make            Run:
//   rate make --real DIR --fake DIR --count N --out DIR [--seed S --size S --channels 1]
//       picks N real and N generated images at random (seeded) and writes
//       OUT/rate.html, one self-contained page (images embedded, no network)
//       to send to a rater, and OUT/key.csv, which says which is which and
//       stays with you. Every image is decoded and re-encoded as a PNG of the
//       same size and channels, named by an opaque id: nothing in the page
//       but the pixels tells real from generated, and the page holds no answer.
//       The seed picks the images and their order; the ids and the page's own
//       token come from a hash of the chosen files (names and bytes) and the
//       seed, so two pages share them only when they show the same files.
//   rate score --key OUT/key.csv ANSWERS.csv... [--out DIR]
//       per rater: accuracy with its exact (Clopper-Pearson) 95% interval and
//       the exact binomial p-value against guessing (50%); pooled over raters,
//       the same accuracy with an interval and p-value that resample images
//       (every rater saw the same ones; see pooled_by_image);
//       sensitivity and specificity for spotting generated images, ROC AUC
//       from the confidence ratings, and Fleiss' kappa between raters; a table
//       and DIR/score.png (the key's folder by default).
#define _DEFAULT_SOURCE   // strdup
#define DCGAN_IMPLEMENTATION
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include "../dcgan.h"
#include "cli.h"
#include "rate_csv.h"
#include "classify_tools.h"
#include <strings.h>   // strcasecmp

// ---------------------------------------------------------------------------
// rate make

// A growing byte buffer (stb's PNG writer hands the bytes to a callback).
typedef struct {
    unsigned char *p;
    size_t n, cap;
    int failed;
} bytes;

static void bytes_put(void *ctx, void *data, int size) {
    bytes *b = (bytes *)ctx;
    if (b->failed || size <= 0) return;
    if (b->n + (size_t)size > b->cap) {
        size_t cap = (b->n + (size_t)size) * 2;
        unsigned char *q = (unsigned char *)realloc(b->p, cap);
        if (!q) { b->failed = 1; return; }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, (size_t)size);
    b->n += (size_t)size;
}

// Base64 (RFC 4648, with padding) of n bytes to f.
static void base64_write(FILE *f, const unsigned char *p, size_t n) {
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        char out[4] = {t[v >> 18 & 63], t[v >> 12 & 63], i + 1 < n ? t[v >> 6 & 63] : '=', i + 2 < n ? t[v & 63] : '='};
        fwrite(out, 1, 4, f);
    }
}

// FNV-1a (cli_fnv1a64) continued over a file's name (without its folder: the same files
// moved elsewhere make the same page) and its bytes. Returns 0 if it cannot be read.
static int fnv1a64_file(uint64_t *h, const char *path) {
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    uint64_t v = cli_fnv1a64(*h, name, strlen(name) + 1);
    if (!cli_fnv1a64_file(&v, path)) return 0;
    *h = v;
    return 1;
}

// 1 if the name ends in .tif, .tiff or .webp (any case): dcgan_list_fid_images lists
// them, but stb cannot decode them.
static int undecodable_name(const char *path) {
    static const char *const ext[] = {".tif", ".tiff", ".webp"};
    const size_t len = strlen(path);
    for (int e = 0; e < 3; e++) {
        const size_t n = strlen(ext[e]);
        if (len >= n && strcasecmp(path + len - n, ext[e]) == 0) return 1;
    }
    return 0;
}

// An integer flag within [lo, hi], or exit with a message (no silent wrap to int).
static int make_int_flag(const char *flag, const char *text, long lo, long hi) {
    long v = cli_int("rate make", flag, text);
    if (v < lo || v > hi) {
        fprintf(stderr, "rate make: %s wants an integer from %ld to %ld, got '%s'\n", flag, lo, hi, text);
        exit(2);
    }
    return (int)v;
}

static const char *page_head =
    "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Real or generated?</title>\n<style>\n"
    "* { box-sizing: border-box; }\n"
    "body { margin: 0; font: 16px/1.4 system-ui, sans-serif; background: #111; color: #eee; }\n"
    "main { max-width: 980px; margin: 0 auto; padding: 12px; }\n"
    "h1 { font-size: 1.4em; margin: 0.4em 0; }\n"
    "#intro p, #done p { max-width: 40em; }\n"
    "kbd { background: #333; border: 1px solid #555; border-radius: 3px; padding: 0 4px; }\n"
    "input, button { font: inherit; }\n"
    "input { padding: 6px; width: 16em; max-width: 100%; }\n"
    "button { padding: 8px 12px; border-radius: 6px; border: 1px solid #666; background: #2a2a2a; color: #eee; cursor: pointer; }\n"
    "button:hover { background: #3a3a3a; }\n"
    "button.chosen { outline: 3px solid #ffd54f; }\n"
    "#top { display: flex; align-items: center; gap: 10px; }\n"
    "#bar { flex: 1; height: 10px; background: #333; border-radius: 5px; overflow: hidden; }\n"
    "#fill { height: 100%; width: 0; background: #4caf50; }\n"
    "#view { text-align: center; margin: 8px 0; }\n"
    "#img { width: min(100%, calc(100vh - 190px)); aspect-ratio: 1; image-rendering: auto; background: #000; }\n"
    "#answers { display: grid; grid-template-columns: repeat(6, 1fr); gap: 6px; }\n"
    ".real { border-color: #64b5f6; } .fake { border-color: #ef9a9a; }\n"
    "#nav { margin-top: 8px; display: flex; justify-content: space-between; gap: 6px; }\n"
    "#nostore { background: #5d4000; border: 1px solid #ffb300; border-radius: 6px; padding: 6px 10px; }\n"
    "@media (max-width: 600px) { #answers { grid-template-columns: repeat(3, 1fr); } #img { width: 100%; } }\n"
    "</style>\n</head>\n";

// The page's screens (a second string, as page_controls below).
static const char *page_body =
    "<body>\n<main>\n"
    "<p id=\"nostore\" hidden><b>This browser does not let the page keep your answers</b> (site data is "
    "blocked): closing or reloading the page loses them. Please rate all the images in one sitting and "
    "press <b>Download answers</b> at the end (or <b>Save answers so far</b> before you stop).</p>\n"
    "<section id=\"intro\">\n<h1>Real or generated?</h1>\n"
    "<p>You will see <b id=\"total\"></b> chest X-rays, one at a time. Some are real radiographs; "
    "the others were made by a computer program (a generative adversarial network). For each one, say "
    "whether you think it is <b>real</b> or <b>generated</b>, and how sure you are.</p>\n"
    "<p>Click a button, or press <kbd>1</kbd> <kbd>2</kbd> <kbd>3</kbd> for real (sure, probably, guess) "
    "and <kbd>4</kbd> <kbd>5</kbd> <kbd>6</kbd> for generated (guess, probably, sure). "
    "<kbd>&larr;</kbd> or <kbd>Backspace</kbd> goes back to change an answer.</p>\n"
    "<p>Your answers stay in this browser: reloading the page, or closing it and opening it again, keeps "
    "them, unless the browser clears site data when it closes (a private window, some workplace settings). "
    "<b>Save answers so far</b> downloads them at any time; at the end, press <b>Download answers</b> and "
    "send the file back. Nothing is sent anywhere by the page.</p>\n"
    "<p><label>Your name or initials: <input id=\"rater\" autocomplete=\"name\" maxlength=\"100\"></label></p>\n"
    "<p><button id=\"start\">Start</button></p>\n</section>\n"
    "<section id=\"rate\" hidden>\n<div id=\"top\"><div id=\"bar\"><div id=\"fill\"></div></div>"
    "<span id=\"count\"></span></div>\n"
    "<div id=\"view\"><img id=\"img\" alt=\"chest X-ray to rate\"></div>\n"
    "<div id=\"answers\">\n"
    "<button class=\"real\" data-a=\"real\" data-c=\"3\">1 Real, sure</button>\n"
    "<button class=\"real\" data-a=\"real\" data-c=\"2\">2 Real, probably</button>\n"
    "<button class=\"real\" data-a=\"real\" data-c=\"1\">3 Real, a guess</button>\n"
    "<button class=\"fake\" data-a=\"fake\" data-c=\"1\">4 Generated, a guess</button>\n"
    "<button class=\"fake\" data-a=\"fake\" data-c=\"2\">5 Generated, probably</button>\n"
    "<button class=\"fake\" data-a=\"fake\" data-c=\"3\">6 Generated, sure</button>\n"
    "</div>\n<div id=\"nav\"><button id=\"back\">&larr; Back</button>"
    "<button class=\"restart\">Start over as a different rater</button>"
    "<button id=\"save\">Save answers so far</button>"
    "<button id=\"next\">Next &rarr;</button></div>\n</section>\n"
    "<section id=\"done\" hidden>\n<h1>Thank you</h1>\n<p>You rated all <b id=\"total2\"></b> images. "
    "Press the button to save your answers as a file, then send that file back.</p>\n"
    "<p><button id=\"download\">Download answers</button> <button id=\"review\">&larr; Back to the images</button></p>\n"
    "<p>Someone else rating on this computer? Download these answers first, then "
    "<button class=\"restart\">Start over as a different rater</button></p>\n"
    "</section>\n</main>\n<script>\n";

static const char *page_script =
    "'use strict';\n"
    "const KEY = 'rate-' + PAGE;\n"
    "const $ = (id) => document.getElementById(id);\n"
    "const fresh = () => ({rater: '', pos: 0, answers: {}});\n"
    "// Local storage can throw (site data blocked, storage full): the answers then live in memory\n"
    "// only, and a note says so.\n"
    "let stored = true;\n"
    "function noStorage() { stored = false; $('nostore').hidden = false; }\n"
    "function load() {\n"
    "  let text = null;\n"
    "  try { text = localStorage.getItem(KEY); } catch (e) { noStorage(); }\n"
    "  try { return JSON.parse(text || 'null') || fresh(); } catch (e) { return fresh(); }\n"
    "}\n"
    "let state = load();\n"
    "let shownAt = 0;\n"
    "function save() {\n"
    "  if (!stored) return;\n"
    "  try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { noStorage(); }\n"
    "}\n"
    "function screen(name) { for (const s of ['intro', 'rate', 'done']) $(s).hidden = s !== name; }\n"
    "function answered() { return IMAGES.filter((im) => state.answers[im.id]).length; }\n"
    "function show() {\n"
    "  if (state.pos >= IMAGES.length) { screen('done'); return; }\n"
    "  screen('rate');\n"
    "  // no focused button: Enter or Space would answer this new image unseen\n"
    "  if (document.activeElement && document.activeElement.blur) document.activeElement.blur();\n"
    "  const im = IMAGES[state.pos], a = state.answers[im.id];\n"
    "  $('img').src = im.src;\n"
    "  $('count').textContent = (state.pos + 1) + ' / ' + IMAGES.length;\n"
    "  $('fill').style.width = (100 * answered() / IMAGES.length) + '%';\n"
    "  for (const b of document.querySelectorAll('#answers button'))\n"
    "    b.classList.toggle('chosen', !!a && a.answer === b.dataset.a && String(a.confidence) === b.dataset.c);\n"
    "  $('back').disabled = state.pos === 0;\n"
    "  $('next').disabled = !a;\n"
    "  shownAt = performance.now();\n"
    "}\n"
    "// Answers within 250 ms of an image appearing are ignored: the second click of a\n"
    "// double-click or a key pressed twice would otherwise answer an image not yet seen.\n"
    "function answer(kind, confidence) {\n"
    "  if (performance.now() - shownAt < 250) return;\n"
    "  const im = IMAGES[state.pos];\n"
    "  state.answers[im.id] = {answer: kind, confidence: confidence, ms: Math.round(performance.now() - shownAt)};\n"
    "  state.pos++;\n"
    "  save();\n"
    "  show();\n"
    "}\n"
    "function back() { if (state.pos > 0) { state.pos--; save(); show(); } }\n"
    "function csv() {\n"
    "  const q = (s) => '\"' + String(s).replace(/\"/g, '\"\"') + '\"';\n"
    "  let out = 'rater,image,answer,confidence,ms\\n';\n"
    "  for (const im of IMAGES) {\n"
    "    const a = state.answers[im.id];\n"
    "    if (a) out += [q(state.rater), im.id, a.answer, a.confidence, a.ms].join(',') + '\\n';\n"
    "  }\n"
    "  return out;\n"
    "}\n";

// The page's controls (a second string: C99 compilers need only take 4095 characters in one).
static const char *page_controls =
    "$('total').textContent = $('total2').textContent = IMAGES.length;\n"
    "$('rater').value = state.rater;\n"
    "$('start').onclick = () => {\n"
    "  const name = $('rater').value.trim();\n"
    "  if (!name) { $('rater').focus(); $('rater').placeholder = 'please type a name first'; return; }\n"
    "  state.rater = name; save(); show();\n"
    "};\n"
    "for (const b of document.querySelectorAll('#answers button'))\n"
    "  b.onclick = () => answer(b.dataset.a, Number(b.dataset.c));\n"
    "$('back').onclick = back;\n"
    "$('next').onclick = () => { if (state.answers[IMAGES[state.pos].id]) { state.pos++; save(); show(); } };\n"
    "$('review').onclick = back;\n"
    "for (const b of document.querySelectorAll('.restart'))\n"
    "  b.onclick = () => {\n"
    "    if (!confirm('Start over as a different rater? This removes the answers of ' + (state.rater || 'the earlier rater') +\n"
    "                 ' from this browser. If they are not downloaded yet, press Cancel and download them first.')) return;\n"
    "    state = fresh();\n"
    "    if (stored) try { localStorage.removeItem(KEY); } catch (e) { noStorage(); }\n"
    "    $('rater').value = '';\n"
    "    screen('intro');\n"
    "  };\n"
    "// the answers given so far as answers-NAME.csv (letters of any script kept: 'Dr M\u00fcller' and\n"
    "// 'Dr M\u00f6ller' were both answers-Dr_M_ller.csv; built at run time, as a browser without\n"
    "// Unicode property escapes rejects a literal /\\p{L}/u and with it the whole script)\n"
    "let unsafe = /[^A-Za-z0-9_-]+/g;\n"
    "try { unsafe = new RegExp('[^\\\\p{L}\\\\p{N}_-]+', 'gu'); } catch (e) { /* ASCII letters only */ }\n"
    "$('download').onclick = $('save').onclick = () => {\n"
    "  const a = document.createElement('a');\n"
    "  a.href = URL.createObjectURL(new Blob([csv()], {type: 'text/csv'}));\n"
    "  a.download = 'answers-' + state.rater.replace(unsafe, '_') + '.csv';\n"
    "  document.body.appendChild(a); a.click(); a.remove();\n"
    "};\n"
    "const keys = {'1': ['real', 3], '2': ['real', 2], '3': ['real', 1], '4': ['fake', 1], '5': ['fake', 2], '6': ['fake', 3]};\n"
    "document.addEventListener('keydown', (e) => {\n"
    "  // Ctrl/Alt/Cmd with a key is meant for the browser (Ctrl+1 picks a tab), not an answer\n"
    "  if (e.ctrlKey || e.altKey || e.metaKey) return;\n"
    "  const isBack = e.key === 'ArrowLeft' || e.key === 'Backspace';\n"
    "  // the end screen: back to the last image, with the same keys as on the rating screen\n"
    "  if (!$('done').hidden && isBack) { back(); e.preventDefault(); return; }\n"
    "  if ($('rate').hidden) return;\n"
    "  // a held key repeats: only its first press answers\n"
    "  if (keys[e.key]) { if (!e.repeat) answer(keys[e.key][0], keys[e.key][1]); e.preventDefault(); }\n"
    "  else if (isBack) { back(); e.preventDefault(); }\n"
    "  else if (e.key === 'ArrowRight' && state.answers[IMAGES[state.pos].id]) { state.pos++; save(); show(); }\n"
    "});\n"
    "// The page open in two tabs: what one saves, the other takes up, so that its next save\n"
    "// does not write its older answers over the newer ones (or bring back a cleared rater's).\n"
    "window.addEventListener('storage', (e) => {\n"
    "  if (e.key !== KEY && e.key !== null) return;\n"
    "  state = load();\n"
    "  $('rater').value = state.rater;\n"
    "  if (state.rater) show(); else screen('intro');\n"
    "});\n"
    "if (state.rater) show(); else screen('intro');\n"
    "</script>\n</body>\n</html>\n";

typedef struct {
    const char *real, *fake, *out;
    int count, size, channels;
    long seed;
} make_options;

// Picks `count` of n paths (seeded Fisher-Yates; the first count of a shuffle).
static void pick(char **paths, int n, dcgan_rng *rng) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(dcgan_rng_u32(rng) % (uint32_t)(i + 1));
        char *t = paths[i];
        paths[i] = paths[j];
        paths[j] = t;
    }
}

static int cmd_make(int argc, char **argv) {
    make_options o = {NULL, NULL, NULL, 0, 0, 1, 1};   // (size 0: the smallest side among the images)
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            printf("usage: rate make --real DIR --fake DIR --count N --out DIR [flags]\n"
                   "  --real DIR     real images                                   (required)\n"
                   "  --fake DIR     generated images                              (required)\n"
                   "  --count N      images of each kind on the page               (required)\n"
                   "  --out DIR      rate.html (to send) and key.csv (to keep)     (required)\n"
                   "  --size S       side of every image on the page, pixels       (the smallest side\n"
                   "                 among the chosen images, at most 512: none is enlarged;\n"
                   "                 16 to 2048)\n"
                   "  --channels C   1 gray | 3 RGB                                (1)\n"
                   "  --seed S       which images and their order                  (1)\n"
                   "The ids and the page's token are a hash of the chosen files and the seed.\n"
                   "Files named .tif, .tiff or .webp are skipped (they cannot be decoded).\n");
            return 0;
        }
        else if (cli_flag(argc, argv, &i, "--real")) o.real = argv[i];
        else if (cli_flag(argc, argv, &i, "--fake")) o.fake = argv[i];
        else if (cli_flag(argc, argv, &i, "--out")) o.out = argv[i];
        else if (cli_flag(argc, argv, &i, "--count")) o.count = make_int_flag(a, argv[i], 1, 100000);
        else if (cli_flag(argc, argv, &i, "--size")) o.size = make_int_flag(a, argv[i], 16, 2048);
        else if (cli_flag(argc, argv, &i, "--channels")) o.channels = make_int_flag(a, argv[i], 1, 3);
        else if (cli_flag(argc, argv, &i, "--seed")) o.seed = cli_int("rate make", a, argv[i]);
        else { fprintf(stderr, "rate make: unknown flag '%s' (see --help)\n", a); return 2; }
    }
    if (!o.real || !o.fake || !o.out || o.count < 1 || (o.size != 0 && (o.size < 16 || o.size > 2048)) ||
        (o.channels != 1 && o.channels != 3)) {
        fprintf(stderr, "rate make: --real, --fake, --out and --count >= 1 are required; 16 <= --size <= 2048, "
                        "--channels 1 or 3 (see --help)\n");
        return 2;
    }
    char **list[2] = {NULL, NULL};
    int n[2] = {0, 0}, rc = 1, out_fd = -1;
    const char *dirs[2] = {o.real, o.fake};
    for (int k = 0; k < 2; k++) {
        if (dcgan_list_fid_images(&list[k], &n[k], dirs[k]) != DCGAN_OK) {
            fprintf(stderr, "rate make: %s\n", dcgan_last_error());
            goto done_lists;
        }
        // stb cannot decode .tif/.tiff/.webp: leave them out before picking (one picked
        // would end the run), and say so
        int kept = 0, skipped = 0;
        for (int i = 0; i < n[k]; i++) {
            if (undecodable_name(list[k][i])) {
                dcgan_free(list[k][i]);
                skipped++;
            } else {
                list[k][kept++] = list[k][i];
            }
        }
        n[k] = kept;
        if (skipped)
            fprintf(stderr, "rate make: skipping %d .tif/.tiff/.webp file%s in '%s' (cannot be decoded)\n",
                    skipped, skipped == 1 ? "" : "s", dirs[k]);
        // key.csv holds one image per line (rate score reads it so): no line breaks in names
        for (int i = 0; i < n[k]; i++)
            if (strpbrk(list[k][i], "\r\n")) {
                fprintf(stderr, "rate make: a file name in '%s' holds a line break, which key.csv cannot "
                                "hold; rename it: '", dirs[k]);
                for (const char *c = list[k][i]; *c; c++) {
                    if (*c == '\n') fputs("\\n", stderr);
                    else if (*c == '\r') fputs("\\r", stderr);
                    else fputc(*c, stderr);
                }
                fputs("'\n", stderr);
                goto done_lists;
            }
        if (n[k] < o.count) {
            fprintf(stderr, "rate make: --count %d needs %d images in '%s', it has %d\n", o.count, o.count, dirs[k], n[k]);
            goto done_lists;
        }
    }
    // One file in both folders (--real and --fake the same folder, or a link): the page would
    // show one image as real and as generated, and the scores would mean nothing.
    int twin = 0;
    const int shared = cli_shared_file(list[0], n[0], list[1], n[1], &twin);
    if (shared == -2) {
        fprintf(stderr, "rate make: out of memory\n");
        goto done_lists;
    }
    if (shared >= 0) {
        fprintf(stderr, "rate make: '%s' (--fake) is the file '%s' (--real); a real image cannot be a generated "
                        "one\n", list[1][shared], list[0][twin]);
        goto done_lists;
    }
    char html_path[4200], key_path[4200], tmp_html[4300], tmp_key[4300];
    snprintf(html_path, sizeof html_path, "%s/rate.html", o.out);
    snprintf(key_path, sizeof key_path, "%s/key.csv", o.out);
    if (cli_mkdirs(o.out) != 0) {
        fprintf(stderr, "rate make: cannot create '%s': %s\n", o.out, strerror(errno));
        goto done_lists;
    }
    // Two runs into one folder shared the .tmp names: the second truncated the first's files,
    // the first then wrote into the published ones. A lock on the folder (released when the
    // process ends, however it ends) lets one run at a time; the key is checked under it.
    // Where the folder cannot be opened or locked (a file system without flock) the run
    // goes on unlocked, as before.
    out_fd = cli_lock_folder(o.out);
    if (out_fd == -2) {
        fprintf(stderr, "rate make: another rate make is writing into '%s'; wait for it to finish\n", o.out);
        goto done_lists;
    }
    if (access(key_path, F_OK) == 0) {
        fprintf(stderr, "rate make: '%s' exists already (answers may depend on it); not overwriting it\n", key_path);
        goto done_lists;
    }
    dcgan_rng rng;
    dcgan_rng_seed(&rng, (uint64_t)o.seed);
    pick(list[0], n[0], &rng);
    pick(list[1], n[1], &rng);
    // The page's side. Every image is resampled to it, and an image enlarged (a generator's
    // 128x128 at 512) looks blurred beside one reduced (a 1500x1800 radiograph): a rater can
    // tell the two kinds apart by the resampling alone (a referee's reading: real images at
    // 64x64 given as the "generated" ones were told apart every time at 512, and by the page's
    // source too, their PNGs a fifth of the size). Without --size the side is the smallest
    // among the chosen images (at most 512; at least 16), so none is enlarged; with it, the
    // enlarged ones are counted and named.
    int min_side = 0;
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < o.count; i++) {
            int w, h, comp;
            if (stbi_info(list[k][i], &w, &h, &comp) && (min_side == 0 || (w < h ? w : h) < min_side))
                min_side = w < h ? w : h;   // (a file stb cannot read is named when it is decoded)
        }
    if (o.size == 0) o.size = min_side == 0 || min_side > 512 ? 512 : min_side < 16 ? 16 : min_side;
    int enlarged[2] = {0, 0}, first_k = -1, first_i = 0, first_w = 0, first_h = 0;
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < o.count; i++) {
            int w, h, comp;
            if (!stbi_info(list[k][i], &w, &h, &comp) || (w >= o.size && h >= o.size)) continue;
            if (enlarged[k]++ == 0 && first_k < 0) {
                first_k = k;
                first_i = i;
                first_w = w;
                first_h = h;
            }
        }
    if (first_k >= 0) {
        char remedy[96] = "images under 16 pixels cannot be shown without it";
        if (min_side >= 16) snprintf(remedy, sizeof remedy, "--size %d (the smallest side among them) enlarges none",
                                     min_side);
        fprintf(stderr, "rate make: warning: %d real and %d generated images have a side shorter than %d and are "
                        "enlarged on the page, the first '%s' (%dx%d): a rater may tell the kinds apart by the "
                        "enlargement's blur, not by what the generator made; %s\n", enlarged[0], enlarged[1], o.size,
                list[first_k][first_i], first_w, first_h, remedy);
    }
    // the page order: 2 * count items, shuffled
    const int total = 2 * o.count;
    int *item = (int *)malloc((size_t)total * sizeof(int));
    char (*ids)[11] = (char(*)[11])malloc((size_t)total * 11);
    float *img = (float *)malloc((size_t)o.channels * o.size * o.size * sizeof(float));
    unsigned char *u8 = (unsigned char *)malloc((size_t)o.channels * o.size * o.size);
    FILE *html = NULL, *key = NULL;
    int ok = item && ids && img && u8;
    if (!ok) fprintf(stderr, "rate make: out of memory\n");
    for (int i = 0; ok && i < total; i++) item[i] = i;
    for (int i = total - 1; ok && i > 0; i--) {
        int j = (int)(dcgan_rng_u32(&rng) % (uint32_t)(i + 1)), t = item[i];
        item[i] = item[j];
        item[j] = t;
    }
    // The ids (10 letters each) and the page's token (the key of its saved answers in the
    // browser) are drawn from a hash of what the page shows: the seed, then each image's
    // truth, file name and bytes in page order. Identical inputs give identical pages;
    // two pages that differ in any image share no ids, so answers cannot cross between them.
    uint64_t h = CLI_FNV_OFFSET;
    char seed_text[32];
    snprintf(seed_text, sizeof seed_text, "%ld", o.seed);
    h = cli_fnv1a64(h, seed_text, strlen(seed_text) + 1);
    for (int i = 0; ok && i < total; i++) {
        const int fake = item[i] >= o.count, which = fake ? item[i] - o.count : item[i];
        h = cli_fnv1a64(h, fake ? "fake" : "real", 4);
        if (!fnv1a64_file(&h, list[fake][which])) {
            fprintf(stderr, "rate make: cannot read '%s'\n", list[fake][which]);
            ok = 0;
        }
    }
    dcgan_rng id_rng;
    dcgan_rng_seed(&id_rng, h);
    for (int i = 0; ok && i < total; i++) {
        for (int c = 0; c < 10; c++) ids[i][c] = "abcdefghijkmnpqrstuvwxyz23456789"[dcgan_rng_u32(&id_rng) % 32];
        ids[i][10] = '\0';
    }
    char token[17];
    for (int c = 0; c < 16; c++) token[c] = "0123456789abcdef"[dcgan_rng_u32(&id_rng) % 16];
    token[16] = '\0';
    // Both files are written under .tmp names and renamed at the end, rate.html first:
    // a run that stops half-way leaves no key.csv to block the next one.
    snprintf(tmp_html, sizeof tmp_html, "%s.tmp", html_path);
    snprintf(tmp_key, sizeof tmp_key, "%s.tmp", key_path);
    if (ok) {
        html = fopen(tmp_html, "w");
        key = html ? fopen(tmp_key, "w") : NULL;
        if (!key) {
            fprintf(stderr, "rate make: cannot write '%s'\n", html ? tmp_key : tmp_html);
            ok = 0;
        }
    }
    if (ok) {
        fputs(page_head, html);
        fputs(page_body, html);
        fprintf(html, "const PAGE = '%s';\nconst IMAGES = [\n", token);
        fprintf(key, "id,truth,source\n");
    }
    dcgan_image_options io;
    dcgan_image_options_default(&io);
    io.size = o.size;
    io.channels = o.channels;
    cli_progress bar;
    cli_progress_start(&bar, "images", total);
    for (int i = 0; ok && i < total; i++) {
        const int fake = item[i] >= o.count, which = fake ? item[i] - o.count : item[i];
        const char *src = list[fake][which];
        bytes png = {NULL, 0, 0, 0};
        if (dcgan_image_load(img, src, &io) != DCGAN_OK) {
            fprintf(stderr, "\nrate make: %s\n", dcgan_last_error());
            ok = 0;
            break;
        }
        dcgan_image_to_u8(u8, img, o.channels, o.size, o.size);
        if (!stbi_write_png_to_func(bytes_put, &png, o.size, o.size, o.channels, u8, o.size * o.channels) ||
            png.failed) {
            fprintf(stderr, "\nrate make: could not encode '%s'\n", src);
            free(png.p);
            ok = 0;
            break;
        }
        fprintf(html, "{id: '%s', src: 'data:image/png;base64,", ids[i]);
        base64_write(html, png.p, png.n);
        fprintf(html, "'},\n");
        free(png.p);
        fprintf(key, "%s,%s,", ids[i], fake ? "fake" : "real");
        cli_csv_field(key, src);   // quoted where it holds a comma or a quote (line breaks: refused above)
        fputc('\n', key);
        cli_progress_update(&bar, i + 1, NULL);
    }
    if (ok) {
        fprintf(html, "];\n");
        fputs(page_script, html);
        fputs(page_controls, html);
        ok = !ferror(html) && !ferror(key);
    }
    if (html && fclose(html) != 0) ok = 0;
    if (key && fclose(key) != 0) ok = 0;
    if (ok && rename(tmp_html, html_path) != 0) ok = 0;
    if (ok && rename(tmp_key, key_path) != 0) {
        remove(html_path);   // a page without its key could not be scored
        ok = 0;
    }
    if (!ok) {
        remove(tmp_html);
        remove(tmp_key);
        fprintf(stderr, "rate make: nothing written\n");
    } else {
        printf("rate make: %d real + %d generated images of %dx%d; send %s, keep %s\n", o.count, o.count, o.size,
               o.size, html_path, key_path);
        rc = 0;
    }
    free(img);
    free(u8);
    free(item);
    free(ids);
done_lists:
    for (int k = 0; k < 2; k++) dcgan_paths_free(list[k], n[k]);
    if (out_fd >= 0) close(out_fd);   // (and the lock with it)
    return rc;
}

// ---------------------------------------------------------------------------
// rate score

typedef struct {
    int n, correct, tp, fn, tn, fp;
    double lo, hi, p, sensitivity, specificity, auc;
} score;

// Adds rater r's answers into s (scores / labels arrays grow by the answered count).
static void score_add(score *s, const rater *r, const key_item *key, int n_key, float *scores, int *labels) {
    for (int i = 0; i < n_key; i++) {
        if (r->answer[i] < 0) continue;
        const int truth = key[i].fake, said = r->answer[i];
        s->tp += truth && said;
        s->fn += truth && !said;
        s->tn += !truth && !said;
        s->fp += !truth && said;
        // the rating scale from "real, sure" (-3) to "generated, sure" (+3)
        scores[s->n] = (float)(said ? r->confidence[i] : -r->confidence[i]);
        labels[s->n] = truth;
        s->n++;
    }
}

static void score_finish(score *s, const float *scores, const int *labels) {
    s->correct = s->tp + s->tn;
    clf_clopper_pearson(&s->lo, &s->hi, s->correct, s->n, 0.95);
    s->p = clf_binomial_test(s->correct, s->n, 0.5);
    s->sensitivity = s->tp + s->fn ? (double)s->tp / (s->tp + s->fn) : NAN;
    s->specificity = s->tn + s->fp ? (double)s->tn / (s->tn + s->fp) : NAN;
    s->auc = clf_roc_auc(scores, labels, s->n);
}

// The pooled row's interval and p-value. Several raters answered the same images, so
// their answers are not independent trials: two raters with the same 37 of 60 right are
// not 74 of 120 (p 0.013, where each alone is 0.09: a referee's reading). The unit
// is the image. With a_i the answers image i got, c_i those that called it generated
// and d_i = 2 c_i - a_i, the raters' correct answers are
//     correct = sum_i (a_i - c_i) + sum_{i generated} d_i.
//   The p-value: a permutation test (Fisher 1935, The Design of Experiments, sec. 21;
//     Good 2005, Permutation, Parametric and Bootstrap Tests, ch. 3). If the raters
//     cannot tell the kinds apart, which images are the generated ones does not change
//     their answers: the truth is shuffled among the images B times (as many generated
//     as in the key), and p = (1 + #{|correct* - E| >= |correct - E|}) / (1 + B), E the
//     mean of correct* over all shuffles (E = sum_i (a_i - c_i) + (n_fake / n) sum_i d_i:
//     half the answers when the key holds as many of each kind, as rate make's do).
//   The interval: a percentile bootstrap over images (Efron & Tibshirani 1993, An
//     Introduction to the Bootstrap, ch. 13): the key's images drawn with replacement
//     B times, accuracy = their correct answers / their answers, the 2.5th and 97.5th
//     percentiles (the 250th and 9,750th smallest of 10,000).
// One rater alone keeps the exact binomial test and Clopper-Pearson interval (its
// answers are one per image).
#define RATE_RESAMPLES 10000

static int by_value(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// 0, or 1 when out of memory. The interval's ends go to *lo, *hi, the p-value to *p, E (the
// correct answers guessing gives, on average over the shuffles) to *expected.
static int pooled_by_image(double *lo, double *hi, double *p, double *expected_out, const rater *raters,
                           int n_files, const key_item *key, int n_key) {
    int *a = (int *)calloc((size_t)n_key, sizeof(int)), *c = (int *)calloc((size_t)n_key, sizeof(int));
    int *order = (int *)malloc((size_t)n_key * sizeof(int));
    double *acc = (double *)malloc(RATE_RESAMPLES * sizeof(double));
    if (!a || !c || !order || !acc) {
        free(a); free(c); free(order); free(acc);
        return 1;
    }
    long base = 0, sum_d = 0, correct = 0;
    int n_fake = 0;
    for (int i = 0; i < n_key; i++) {
        for (int k = 0; k < n_files; k++)
            if (raters[k].answer[i] >= 0) {
                a[i]++;
                c[i] += raters[k].answer[i];
            }
        base += a[i] - c[i];
        sum_d += 2 * c[i] - a[i];
        if (key[i].fake) {
            n_fake++;
            correct += 2 * c[i] - a[i];
        }
        order[i] = i;
    }
    correct += base;
    const double expected = (double)base + (double)n_fake / n_key * (double)sum_d;
    *expected_out = expected;
    const double observed = fabs((double)correct - expected) - 1e-9;   // (ties count as extreme)
    dcgan_rng rng;
    dcgan_rng_seed(&rng, 1);
    int extreme = 0;
    for (int b = 0; b < RATE_RESAMPLES; b++) {
        long shuffled = base;   // the first n_fake of a partial Fisher-Yates shuffle are "generated"
        for (int i = 0; i < n_fake; i++) {
            const int j = i + (int)(dcgan_rng_u32(&rng) % (uint32_t)(n_key - i)), t = order[i];
            order[i] = order[j];
            order[j] = t;
            shuffled += 2 * c[order[i]] - a[order[i]];
        }
        extreme += fabs((double)shuffled - expected) >= observed;
    }
    *p = (1.0 + extreme) / (1.0 + RATE_RESAMPLES);
    int kept = 0;
    for (int b = 0; b < RATE_RESAMPLES; b++) {
        long right = 0, answers = 0;
        for (int i = 0; i < n_key; i++) {
            const int j = (int)(dcgan_rng_u32(&rng) % (uint32_t)n_key);
            right += key[j].fake ? c[j] : a[j] - c[j];
            answers += a[j];
        }
        if (answers > 0) acc[kept++] = (double)right / (double)answers;
    }
    qsort(acc, (size_t)kept, sizeof(double), by_value);
    // the q-quantile as the ceil(q kept)-th smallest value (the inverse of the empirical CDF)
    const int i_lo = (kept * 25 + 999) / 1000 - 1, i_hi = (kept * 975 + 999) / 1000 - 1;
    *lo = kept ? acc[i_lo > 0 ? i_lo : 0] : NAN;
    *hi = kept ? acc[i_hi > 0 ? i_hi : 0] : NAN;
    free(a); free(c); free(order); free(acc);
    return 0;
}

// The characters of UTF-8 text s (its bytes less the continuation bytes 10xxxxxx).
static int utf8_length(const char *s) {
    int n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

// name, then blanks to width characters: the table's first column. Names are never cut
// (at 16 bytes, "Radiologist 1 - site A" and "... site B" read alike, and a cut could
// fall inside a UTF-8 character); the column is as wide as the longest.
static void print_name(const char *name, int width) {
    fputs(name, stdout);
    for (int k = utf8_length(name); k < width; k++) putchar(' ');
}

static int cmd_score(int argc, char **argv) {
    const char *key_path = NULL, *out = NULL, *files[64];
    int n_files = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            printf("usage: rate score --key KEY.csv ANSWERS.csv... [--out DIR]\n"
                   "  --key FILE   key.csv from rate make                         (required)\n"
                   "  --out DIR    where score.png goes                           (the key's folder)\n"
                   "One answers file per rater (rate.html's 'Download answers').\n");
            return 0;
        }
        else if (cli_flag(argc, argv, &i, "--key")) key_path = argv[i];
        else if (cli_flag(argc, argv, &i, "--out")) out = argv[i];
        else if (a[0] == '-' && a[1] == '-') { fprintf(stderr, "rate score: unknown flag '%s' (see --help)\n", a); return 2; }
        else if (n_files < 64) files[n_files++] = a;
        else { fprintf(stderr, "rate score: at most 64 answers files\n"); return 2; }
    }
    if (!key_path || n_files == 0) {
        fprintf(stderr, "rate score: --key and at least one answers file are required (see --help)\n");
        return 2;
    }
    key_item *key = NULL;
    int n_key = 0, rc = 1;
    if (read_key(key_path, &key, &n_key) != 0) return 1;
    rater *raters = (rater *)calloc((size_t)n_files, sizeof(rater));
    if (!raters) {
        fprintf(stderr, "rate score: out of memory\n");
        free(key);
        return 1;
    }
    for (int k = 0; k < n_files; k++) {
        if (read_answers(files[k], key, n_key, &raters[k]) != 0) goto done;
        for (int j = 0; j < k; j++)
            if (strcmp(raters[j].name, raters[k].name) == 0) {
                fprintf(stderr, "rate score: '%s' and '%s' are both from rater '%s': give each rater's file once "
                                "(two raters who typed one name: change the rater column of one file)\n",
                        raters[j].file, raters[k].file, raters[k].name);
                goto done;
            }
    }
    {
        const int groups = n_files + (n_files > 1);
        double guessing = NAN;   // the pooled row's E (pooled_by_image)
        score *s = (score *)calloc((size_t)groups, sizeof(score));
        float *scores = (float *)malloc((size_t)n_key * n_files * sizeof(float));
        int *labels = (int *)malloc((size_t)n_key * n_files * sizeof(int));
        int *counts = n_files > 1 ? (int *)calloc((size_t)n_key * 2, sizeof(int)) : NULL;
        const int W = 900, H = 420;
        unsigned char *rgb = (unsigned char *)malloc((size_t)W * H * 3);
        float *y = (float *)malloc((size_t)4 * groups * sizeof(float));
        const char **names = (const char **)malloc((size_t)groups * sizeof(char *));
        if (!s || !scores || !labels || (n_files > 1 && !counts) || !rgb || !y || !names) {
            fprintf(stderr, "rate score: out of memory\n");
            goto done_score;   // rc is 1
        }
        int width = 16;
        for (int k = 0; k < n_files; k++)
            if (utf8_length(raters[k].name) > width) width = utf8_length(raters[k].name);
        print_name("rater", width);
        printf(" %5s %9s  %-17s %10s %12s %12s %6s\n", "n", "accuracy", "95% CI",
               "p vs 50%", "sensitivity", "specificity", "AUC");
        for (int g = 0; g < groups; g++) {
            const int pooled = g == n_files;
            for (int k = 0; k < n_files; k++)
                if (pooled || k == g) score_add(&s[g], &raters[k], key, n_key, scores, labels);
            score_finish(&s[g], scores, labels);
            if (pooled && pooled_by_image(&s[g].lo, &s[g].hi, &s[g].p, &guessing, raters, n_files, key, n_key) != 0) {
                fprintf(stderr, "rate score: out of memory\n");
                goto done_score;   // rc is 1
            }
            print_name(pooled ? "pooled" : raters[g].name, width);
            printf(" %5d %9.3f  [%.3f, %.3f] %10.3g %12.3f %12.3f %6.3f\n", s[g].n, (double)s[g].correct / s[g].n, s[g].lo, s[g].hi, s[g].p, s[g].sensitivity,
                   s[g].specificity, s[g].auc);
        }
        printf("(sensitivity: generated images called generated; specificity: real images called real; AUC from "
               "the 6-step rating scale)\n");
        if (n_files > 1)
            printf("(pooled: every rater saw the same images, so its interval and p resample images - a bootstrap "
                   "over images and a permutation of which are generated, %d each - not answers)\n", RATE_RESAMPLES);
        printf("(%s: the exact Clopper-Pearson interval and binomial test)\n", n_files > 1 ? "each rater" : "the rater");
        if (n_files > 1) {
            // Fleiss' kappa over the images every rater answered: classes real, generated
            int items = 0;
            for (int i = 0; i < n_key; i++) {
                int all = 1;
                for (int k = 0; k < n_files; k++) all &= raters[k].answer[i] >= 0;
                if (!all) continue;
                for (int k = 0; k < n_files; k++) counts[items * 2 + raters[k].answer[i]]++;
                items++;
            }
            double kappa = 0.0;
            if (items > 0 && clf_fleiss_kappa(&kappa, counts, items, 2) == DCGAN_OK)
                printf("agreement between the %d raters: Fleiss' kappa %.3f over the %d images all of them "
                       "answered\n", n_files, kappa, items);
            else
                printf("agreement between the %d raters: Fleiss' kappa undefined (%s)\n", n_files,
                       items ? clf_last_error() : "no image answered by all");
        }
        // The verdict needs both kinds answered: a rater who saw only real images (a partial
        // file) can be right every time by always saying "real".
        const score *all = &s[groups - 1];
        // the direction: against what guessing gives (n / 2 for one rater; E for the pooled
        // row, which is n / 2 where the key holds as many of each kind, as rate make's do)
        const int better = n_files > 1 ? all->correct > guessing : all->correct * 2 > all->n;
        const char *verdict =
            all->tp + all->fn == 0 ? "the test cannot be made: no generated image was answered"
            : all->tn + all->fp == 0 ? "the test cannot be made: no real image was answered"
            : all->p < 0.05 ? (better ? "better than guessing (p < 0.05): the generated images can be told apart"
                                                         : "worse than guessing (p < 0.05): the rater calls them the wrong way round")
                            : "no better than guessing (p >= 0.05): no evidence the generated images can be told apart";
        printf("%s: %d of %d correct; %s\n", n_files > 1 ? "pooled" : raters[0].name, all->correct, all->n, verdict);
        // the picture: accuracy, sensitivity, specificity and AUC per rater
        for (int g = 0; g < groups; g++) {
            names[g] = g == n_files ? "pooled" : raters[g].name;
            y[g] = (float)s[g].correct / (float)s[g].n;
            y[groups + g] = (float)s[g].sensitivity;
            y[2 * groups + g] = (float)s[g].specificity;
            y[3 * groups + g] = (float)s[g].auc;
        }
        dcgan_plot_series series[4] = {{"accuracy", y, {31, 119, 180}},
                                       {"sensitivity", y + groups, {255, 127, 14}},
                                       {"specificity", y + 2 * groups, {44, 160, 44}},
                                       {"ROC AUC", y + 3 * groups, {148, 103, 189}}};
        dcgan_plot_bars(rgb, W, H, "Real or generated: 0.5 = guessing", names, groups, series, 4, NULL, 0.0f, 1.0f);
        char dir[4200], png[4300];
        if (out) snprintf(dir, sizeof dir, "%s", out);
        else {
            snprintf(dir, sizeof dir, "%s", key_path);
            char *slash = strrchr(dir, '/');
            if (slash) *slash = '\0'; else snprintf(dir, sizeof dir, ".");
        }
        snprintf(png, sizeof png, "%s/score.png", dir);
        if (cli_mkdirs(dir) != 0 || dcgan_png_write(png, rgb, W, H, 3) != DCGAN_OK) {
            fprintf(stderr, "rate score: could not write '%s'\n", png);
            rc = 1;
        } else {
            printf("wrote %s\n", png);
            rc = 0;
        }
    done_score:
        free(counts);
        free(rgb);
        free(y);
        free(names);
        free(s);
        free(scores);
        free(labels);
    }
done:
    for (int k = 0; k < n_files; k++) rater_free(&raters[k]);
    free(raters);
    free(key);
    return rc;
}

int main(int argc, char **argv) {
    argv = cli_split_equals(&argc, argv);   // (--name=value as --name value)
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && strcmp(argv[1], "make") == 0) return cmd_make(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "score") == 0) return cmd_score(argc, argv);
    printf("usage: rate make --real DIR --fake DIR --count N --out DIR    a page for a rater\n"
           "       rate score --key KEY.csv ANSWERS.csv...                 how well the raters did\n"
           "(rate make --help, rate score --help for the flags)\n");
    return argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) ? 0 : 2;
}
