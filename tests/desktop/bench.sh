#!/usr/bin/env bash
# Desktop benchmarks of docs/benchmarks.md (issue 6), on the release build under Xvfb:
#   1. cold start to a usable window: from the process's spawn to the authenticator page's load
#      event (the app logs "authenticator window ready"), median of 5 fresh starts, each with a
#      new data folder (so the demo bank is created from scratch, as on a first run);
#   2. resident memory with both windows loaded: RSS and PSS (shared pages divided among the
#      processes that share them) of the app and its WebKit processes, 3 s after both pages loaded;
#      then, from the last run, where that memory goes (libraries by kind, our binary, heaps), and
#      the floor under it: WebKitGTK's own MiniBrowser with two blank webviews (so two web
#      processes, as the app has) under the app's settings (no compositing, no JIT);
#   3. webcam frame to code with the synthetic camera (src-tauri/examples/frame_to_code.rs).
# Usage: tests/desktop/bench.sh [runs]
# Environment passes to the app: SIGILLO_SERVER=URL measures it as a bank's client (start one
# with `target/debug/sca-server --demo --listen 127.0.0.1:18555`), SIGILLO_JIT=1 with the JIT.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
runs=${1:-5}
scripts/build-ui.sh
cargo build --locked -q --release -p sigillo-desktop --bin sigillo --example frame_to_code
app=target/release/sigillo

if [ -z "${SIGILLO_BENCH_INNER:-}" ]; then
  SIGILLO_BENCH_INNER=1 exec scripts/with-xvfb.sh scripts/with-keyring.sh "$0" "$runs"
fi

descendants() { local p=$1; echo "$p"; for c in $(ps -o pid= --ppid "$p"); do descendants "$c"; done; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
starts=() rss=() pss=()
for i in $(seq "$runs"); do
  log="$scratch/run$i.log"
  t0=$(date +%s%N)
  RUST_LOG=warn,sigillo_desktop=info SIGILLO_DATA_DIR="$scratch/data$i" "$app" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do grep -q 'authenticator window ready' "$log" && break; sleep 0.01; done
  t1=$(date +%s%N)
  grep -q 'authenticator window ready' "$log" || { echo "run $i: no window in 6 s"; cat "$log"; kill $pid; exit 1; }
  starts+=($(( (t1 - t0) / 1000000 )))
  for _ in $(seq 300); do grep -q 'banking window ready' "$log" && break; sleep 0.02; done
  sleep 3
  r=0 p=0
  for q in $(descendants "$pid"); do
    r=$(( r + $(awk '/^VmRSS/ {print $2}' "/proc/$q/status" 2>/dev/null || echo 0) ))
    p=$(( p + $(awk '/^Pss:/ {print $2}' "/proc/$q/smaps_rollup" 2>/dev/null || echo 0) ))
  done
  rss+=($(( r / 1024 ))) pss+=($(( p / 1024 )))
  if [ "$i" = "$runs" ]; then
    for q in $(descendants "$pid"); do cat "/proc/$q/smaps" 2>/dev/null; done >"$scratch/smaps"
    for q in $(descendants "$pid"); do
      printf '| %s (pid %s) | %s MB |\n' "$(basename "$(tr '\0' '\n' <"/proc/$q/cmdline" | head -1)")" "$q" \
        "$(( $(awk '/^Pss:/ {print $2}' "/proc/$q/smaps_rollup" 2>/dev/null || echo 0) / 1024 ))"
    done >"$scratch/procs"
  fi
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
done
# PSS of the smaps on stdin by kind of mapping, largest first.
by_kind() {
  awk '/^[0-9a-f]+-[0-9a-f]+ /{name=$6}
    /^Pss:/{ c="other libraries and files"
      if (name=="" || name~/^\[/) c="heaps, stacks, anonymous memory (JS heaps, DOM, caches)"
      else if (name~/LLVM|swrast|libz3|libEGL|libGL|libgbm|libglapi|libdrm|libepoxy|libvulkan|libsensors|libelf|libedit/) c="GL stack (Mesa llvmpipe with LLVM), loaded by WebKitGTK even without compositing"
      else if (name~/webkit2gtk|javascriptcore|WebKit/) c="WebKitGTK and JavaScriptCore code and relocations"
      else if (name~/flite/) c="flite voices, linked by WebKitGTK for speech synthesis"
      else if (name~/sigillo$/) c="the sigillo binary"
      else if (name~/SYSV|memfd/) c="shared memory (X images, frames)"
      t[c]+=$2 }
    END {for (c in t) printf "| %s | %.0f MB |\n", c, t[c]/1024}' | sort -t'|' -k3 -rn
}
floor=""
mini=$(ls /usr/lib/*/webkit2gtk-4.1/MiniBrowser 2>/dev/null | head -1 || true)
if [ -n "$mini" ]; then
  WEBKIT_DISABLE_COMPOSITING_MODE=1 JSC_useJIT=0 "$mini" about:blank about:blank >"$scratch/mini.log" 2>&1 &
  pid=$!
  sleep 6
  p=0
  for q in $(descendants "$pid"); do p=$(( p + $(awk '/^Pss:/ {print $2}' "/proc/$q/smaps_rollup" 2>/dev/null || echo 0) )); done
  floor=$(( p / 1024 ))
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
fi
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
echo "| desktop app (release, Xvfb) | median of $runs | runs | target |"
echo "|---|---:|---|---|"
echo "| cold start to a usable window | $(median "${starts[@]}") ms | ${starts[*]} ms | ≤ 1500 ms |"
echo "| resident memory, both windows (RSS, app + WebKit processes) | $(median "${rss[@]}") MB | ${rss[*]} MB | ≤ 200 MB |"
echo "| the same as PSS (shared pages counted once) | $(median "${pss[@]}") MB | ${pss[*]} MB | |"
[ -n "$floor" ] && echo "| floor: WebKitGTK MiniBrowser, two blank webviews, PSS | $floor MB | 1 run | |"
echo
echo "| where the PSS of run $runs goes | |"
echo "|---|---:|"
by_kind <"$scratch/smaps"
echo
echo "| process of run $runs, in the order they started | PSS |"
echo "|---|---:|"
cat "$scratch/procs"
echo
target/release/examples/frame_to_code --runs 30
