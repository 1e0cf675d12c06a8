#!/usr/bin/env bash
# Screenshots of the real explorer window for the README, taken under Xvfb (no desktop needed):
#   scripts/screenshots.sh            # writes screenshots/*.png
# Needs: xvfb, mesa-vulkan-drivers (wgpu on lavapipe), imagemagick (import), xdotool (clicks),
# zenity (the save dialog rfd falls back to without a desktop portal). Installs them on Debian.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for c in Xvfb import xdotool zenity; do command -v "$c" >/dev/null || need+=("$c"); done
if ((${#need[@]})); then
    apt-get install -y xvfb mesa-vulkan-drivers libvulkan1 libgl1-mesa-dri libegl1 \
        libxkbcommon-x11-0 imagemagick xdotool zenity
fi
cargo build --release
bin=target/release/binscape
big=${BINSCAPE_SHOT_READS:-../shared/data/dev_long.fastq}
out=screenshots
mkdir -p "$out"
export DISPLAY=:97
Xvfb "$DISPLAY" -screen 0 1500x950x24 >/dev/null 2>&1 &
xvfb=$!
app=
cleanup() { [[ -n $app ]] && kill "$app" 2>/dev/null; kill "$xvfb" 2>/dev/null; true; }
trap cleanup EXIT
sleep 1

start() { "$bin" "$@" >/dev/null 2>&1 & app=$!; }
stop() { kill "$app" 2>/dev/null; wait "$app" 2>/dev/null || true; app=; }
shot() { import -window root "$out/$1.png"; echo "$out/$1.png"; }

# 1. Loading: the progress bar while a 6 000-read file streams in (demo if it is absent).
if [[ -f $big ]]; then start "$big"; else start --demo; fi
sleep 1.5
shot 1-loading
stop

# 2. Training: the loss curves drawing live, with the progress bar, and the map of the latent
# as it is, redrawn every few seconds while training goes on (the dev reads when present).
if [[ -f $big ]]; then start "$big" --train --epochs 4000; else start --demo --train --epochs 4000; fi
sleep 20
shot 2-training
stop

# 3. Clustered, coloured by bin; 4. the same coloured by the true species.
start --demo --train
sleep 25
shot 3-bins
stop
start --demo --train --colour-by truth
sleep 25
shot 4-truth
stop

# 5. A bin selected from the legend; 6. the export dialog open on it.
start --demo --train
sleep 25
win=$(xdotool search --name '^binscape$' | head -1)
# The legend's first entry (bin_1) sits just under the colour/tool row of the map.
xdotool mousemove --window "$win" 330 66 click 1
sleep 1
shot 5-selection
xdotool mousemove --window "$win" 380 12 click 1
sleep 3
# Without a window manager the dialog opens at the origin: move it off the selection.
dlg=$(xdotool search --class zenity | tail -1 || true)
[[ -n $dlg ]] && xdotool windowsize "$dlg" 620 520 windowmove "$dlg" 860 330
sleep 1
shot 6-export
stop

# 7. Coloured by overlap component, a read hovered: its overlaps drawn, counted in the status bar
# (the dev reads when present: the demo is too shallow for overlaps to join up).
if [[ -f $big ]]; then start "$big" --train --colour-by component; else start --demo --train --colour-by component; fi
sleep 80
win=$(xdotool search --name '^binscape$' | head -1)
xdotool mousemove --window "$win" ${BINSCAPE_SHOT_HOVER:-724 114}
sleep 1
shot 7-overlaps
stop

# 8. Coloured by agreement: green reads' overlaps all share their bin, red ones' mostly do not,
# grey ones have none (the dev reads when present).
if [[ -f $big ]]; then start "$big" --train --colour-by agreement; else start --demo --train --colour-by agreement; fi
sleep 80
shot 8-agreement
stop
