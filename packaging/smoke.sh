#!/usr/bin/env bash
# Smoke check of the built application folder (run packaging/build.sh first):
#   packaging/smoke.sh [APP_FOLDER] [SCREENSHOT.png]      (default dist/implant-desk; no screenshot)
# Everything runs the packaged executable with an empty environment (no Python on PATH, no PYTHONPATH) and a new
# HOME, so it reads only its own folder and what it writes in this run. It proves:
#   CLI: it makes the built-in demo, generates DICOM films, identifies them (predict --json), trains one tiny
#   epoch and registers the version;
#   GUI (Xvfb, openbox, xdotool): it opens a film given on the command line, identifies it (Ctrl+I), accepts the
#   fixtures as boxes, adds a drawn box, saves them as VOC XML (Ctrl+S), starts a fine-tune whose child process is
#   this same executable (spawn, frozen) and trains until the child writes its first epoch's checkpoint, then
#   quits (Ctrl+Q, "Stop and close") with exit 0 and no child left.
set -euo pipefail

APP_FOLDER=$(cd "${1:-$(dirname "$0")/../dist/implant-desk}" && pwd)
SCREENSHOT=${2:-}
APP="$APP_FOLDER/implant-desk"
DISPLAY_NUMBER=${SMOKE_DISPLAY:-61}
[ -x "$APP" ] || { echo "smoke: no executable at $APP: run packaging/build.sh first" >&2; exit 2; }
for tool in Xvfb openbox xdotool; do
    if ! command -v "$tool" >/dev/null; then
        echo "smoke: $tool is needed (apt-get install xvfb openbox xdotool)" >&2
        exit 2
    fi
done

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/home" "$WORK/empty"

# The packaged executable as a clinic's user starts it: nothing inherited from this shell.
APP_ENV=(PATH="$WORK/empty" HOME="$WORK/home" LANG=C.UTF-8 DISPLAY=":$DISPLAY_NUMBER")
app() { env -i "${APP_ENV[@]}" "$APP" "$@"; }
fail() {
    echo "smoke: FAILED: $*" >&2
    if [ -n "$SCREENSHOT" ] && [ -n "${DISPLAY:-}" ]; then
        import -window root "${SCREENSHOT%.png}-failed.png" || true
    fi
    exit 1
}
step() { echo "smoke: $* ($(( $(date +%s) - STARTED )) s)"; }
STARTED=$(date +%s)

# ---- command line -------------------------------------------------------------------------------------------------
demo=$(app demo --no-gui | tail -1)
[ "$(find "$demo" -name "*.dcm" | wc -l)" -ge 30 ] || fail "the built-in demo made no films in $demo"
step "demo --no-gui: $(find "$demo" -name "*.dcm" | wc -l) films"
app synth "$WORK/films" --images 2 --seed 7 --format dicom >/dev/null
film="$WORK/films/image_0001.dcm"
[[ "$(app info "$film")" == *DICOM* ]] || fail "info does not read the generated DICOM"
step "synth + info: 2 DICOM films"

predictions=$(app predict "$WORK/films" --json)
[ "$(grep -c '"fixtures"' <<<"$predictions")" = 2 ] || fail "predict did not answer for both films: $predictions"
grep -q '"identified": true' <<<"$predictions" || fail "predict found no fixture: $predictions"
step "predict --json: both films answered, fixtures identified"

app synth "$WORK/train" --images 12 --seed 3 --format png >/dev/null
trained=$(app train "$WORK/train" --epochs 1 --head-epochs 1 --patience 0 --json | tail -1)
grep -q '"version"' <<<"$trained" || fail "train did not register a version: $trained"
[[ "$(app models list)" == *v2* ]] || fail "the trained version is not listed"
step "train 1 epoch: registered $(grep -o '"version": "[^"]*"' <<<"$trained")"

# ---- the window ---------------------------------------------------------------------------------------------------
Xvfb ":$DISPLAY_NUMBER" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
PIDS+=($!)
sleep 1
DISPLAY=":$DISPLAY_NUMBER" openbox >/dev/null 2>&1 &
PIDS+=($!)
export DISPLAY=":$DISPLAY_NUMBER"

# The training folder, plus a film with no annotation yet: the window opens the folder at that film.
cp -r "$WORK/train" "$WORK/chair"
cp "$film" "$WORK/chair/patient.dcm"
launched=$(date +%s%3N)
env -i "${APP_ENV[@]}" "$APP" "$WORK/chair/patient.dcm" >"$WORK/gui.log" 2>&1 &
gui=$!  # env executes the app in its own process: this is the app's pid
PIDS+=("$gui")
window=$(timeout 60 xdotool search --sync --all --onlyvisible --pid "$gui" --name "^implant_desk" | head -1) \
    || fail "no window within 60 s"
step "window shown $(( $(date +%s%3N) - launched )) ms after the launch"
# A known place and size: the buttons without shortcuts are clicked from the bottom-right corner of their window,
# so a changed layout fails below, loudly, rather than clicking elsewhere.
xdotool windowsize --sync "$window" 1200 720 windowmove --sync "$window" 0 0
click_from_corner() {  # WINDOW RIGHT BOTTOM: click so far left of and above the window's bottom-right corner
    eval "$(xdotool getwindowgeometry --shell "$1")"
    xdotool mousemove --window "$1" $((WIDTH - $2)) $((HEIGHT - $3)) click 1
}

xdotool windowactivate --sync "$window" key ctrl+i
sleep "${SMOKE_IDENTIFY_WAIT:-20}"  # loading the model, then identifying
if [ -n "$SCREENSHOT" ]; then
    import -window root "$SCREENSHOT" && step "screenshot after identifying: $SCREENSHOT"
fi
annotation="$WORK/chair/patient.xml"
saved_boxes() { grep -c "<object>" "$annotation" 2>/dev/null || true; }
click_from_corner "$window" 130 106  # the Identify dock's "Accept N as annotations"
sleep 1
xdotool windowactivate --sync "$window" key ctrl+s
sleep 2
accepted=$(saved_boxes)
[ "${accepted:-0}" -ge 1 ] || fail "no identified fixture was accepted and saved (the Identify dock's button moved?)"
# Draw a box in the middle of the image (W, drag), name it, save.
eval "$(xdotool getwindowgeometry --shell "$window")"
xdotool key w mousemove --window "$window" $((WIDTH * 30 / 100)) $((HEIGHT * 35 / 100)) mousedown 1 \
    mousemove --window "$window" $((WIDTH * 35 / 100)) $((HEIGHT * 45 / 100)) \
    mousemove --window "$window" $((WIDTH * 40 / 100)) $((HEIGHT * 55 / 100)) mouseup 1
sleep 2
xdotool key ctrl+a type "implant"
xdotool key Return
sleep 1
xdotool windowactivate --sync "$window" key ctrl+s
sleep 2
[ "$(saved_boxes)" = $((accepted + 1)) ] || fail "the drawn box was not saved"
step "$accepted identified fixtures accepted, a box drawn, all saved as VOC XML"

# Fine-tune on the open folder: the dialog's child must start from this executable and train.
rm -rf "$WORK/home/.cache/implant_desk/training"  # the CLI run's checkpoint, if it left one
xdotool windowactivate --sync "$window" key ctrl+shift+t
dialog=$(timeout 30 xdotool search --sync --all --onlyvisible --pid "$gui" --name "^Fine-tune" | head -1) \
    || fail "the fine-tune dialog did not open"
# It reads the folder, then grows to show the plan: click once its size has held for 2 s (on a busy machine a
# fixed wait clicked a dialog still growing, and missed the button).
size=""
for _ in $(seq 30); do
    sleep 2
    now=$(xdotool getwindowgeometry "$dialog" | grep Geometry)
    [ "$now" = "$size" ] && break
    size=$now
done
click_from_corner "$dialog" 145 28  # "Start training"
child=""
for _ in $(seq 60); do
    child=$(pgrep -P "$gui" -f -- "--multiprocessing-fork" | head -1 || true)
    [ -n "$child" ] && break
    sleep 1
done
[ -n "$child" ] || fail "the fine-tune child process did not start"
[ "$(readlink "/proc/$child/exe")" = "$APP" ] || fail "the child is not the packaged executable"
step "fine-tune child started: the packaged executable, pid $child"
for _ in $(seq "${SMOKE_EPOCH_WAIT:-300}"); do
    compgen -G "$WORK/home/.cache/implant_desk/training/*.pt" >/dev/null && break
    kill -0 "$child" 2>/dev/null || fail "the fine-tune child ended before its first epoch did (see the dialog)"
    sleep 1
done
compgen -G "$WORK/home/.cache/implant_desk/training/*.pt" >/dev/null || fail "no epoch finished in the child"
step "fine-tune child finished an epoch (checkpoint written)"

xdotool windowactivate --sync "$window" key ctrl+q
sleep 2
xdotool key Tab space  # the question's default is Cancel; Tab moves to "Stop and close"
status=0
timeout 30 tail --pid="$gui" -f /dev/null || fail "the window did not close"
wait "$gui" || status=$?
[ "$status" = 0 ] || fail "the app exited with $status: $(tail -5 "$WORK/gui.log")"
! kill -0 "$child" 2>/dev/null || fail "the fine-tune child outlived the app"
step "quit with exit 0, child stopped"
echo "smoke: PASSED"
