#!/usr/bin/env bash
# Checkpoint vs `git add -A && git commit` on a generated repository.
#
#   bench/checkpoint.sh [FILES] [RUNS]     (defaults: 50000 files, 7 runs)
#
# Builds the release binary, generates a repository of FILES files in nested
# directories (committed and packed, gc.auto=0), copies it, then alternates:
# modify 10 files and add 5 in both copies, time `git-session checkpoint` in
# one and `git add -A && git commit -q` in the other. Prints medians, min–max
# and the ratio. Git is isolated from the machine's config.
set -euo pipefail
files=${1:-50000}
runs=${2:-7}
here=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/git-session"

export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 LC_ALL=C TZ=UTC
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo="$work/a"
mkdir "$repo"
cd "$repo"
git init -q -b main
git config gc.auto 0
python3 - "$files" <<'PY'
import os, sys
n = int(sys.argv[1])
for i in range(n):
    d = f"d{i % 50:02d}/e{(i // 50) % 20:02d}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/f{i}.txt", "w") as f:
        f.write(f"file {i}\n" * 8)
PY
git add -A && git commit -qm init && git gc -q
cp -a "$repo" "$work/b"

now_ns() { date +%s%N; }
ours=() theirs=()
for run in $(seq 1 "$runs"); do
  for dir in "$work/a" "$work/b"; do
    for k in $(seq 0 9); do echo "run $run" >> "$dir/d$(printf %02d "$k")/e00/f$k.txt"; done
    for k in $(seq 1 5); do echo new > "$dir/new-$run-$k.txt"; done
  done
  cd "$work/a"; t0=$(now_ns); "$bin" checkpoint -q -m "run $run"; t1=$(now_ns)
  cd "$work/b"; t2=$(now_ns); git add -A && git commit -q -m "run $run"; t3=$(now_ns)
  ours+=($(( (t1 - t0) / 1000000 ))); theirs+=($(( (t3 - t2) / 1000000 )))
  # Both must have recorded the same tree.
  [ "$(git -C "$work/a" rev-parse HEAD^{tree})" = "$(git -C "$work/b" rev-parse HEAD^{tree})" ] || { echo "trees differ" >&2; exit 1; }
done
python3 - "${ours[*]}" "${theirs[*]}" "$files" <<'PY'
import statistics, sys
ours = [int(x) for x in sys.argv[1].split()]
theirs = [int(x) for x in sys.argv[2].split()]
m_o, m_t = statistics.median(ours), statistics.median(theirs)
print(f"{sys.argv[3]} files, {len(ours)} runs, milliseconds")
print(f"git add -A && git commit : median {m_t:.0f} (min {min(theirs)}, max {max(theirs)})")
print(f"git session checkpoint   : median {m_o:.0f} (min {min(ours)}, max {max(ours)})")
print(f"ratio checkpoint/git     : {m_o / m_t:.2f}")
PY
