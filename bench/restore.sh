#!/usr/bin/env bash
# Restore vs git's own ways back, on a generated repository.
#
#   bench/restore.sh [FILES] [RUNS]     (defaults: 100000 files, 7 runs)
#
# Builds the release binary, generates a repository of FILES files in nested
# directories (committed and packed, gc.auto=0) and a second commit that
# differs from it in 10 files (6 modified, 2 added, 2 deleted), then copies
# it twice. Each run goes back to the first commit and forward again:
# `git session restore` in one copy (checkpoints, notes, index included),
# `git read-tree -u --reset` in the second, `git checkout SHA -- . && git
# clean -fdq` in the third (which leaves the 2 added files, tracked, in
# place: it is not a way back, only the command people reach for). Prints
# medians, min-max and the ratios. Git is isolated from the machine's config.
set -euo pipefail
files=${1:-100000}
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
"$bin" start -q "restore benchmark"
old=$(git rev-parse HEAD)
for k in $(seq 0 5); do echo changed >> "d$(printf %02d "$k")/e00/f$k.txt"; done
echo new > d00/added-1.txt; echo new > d01/e01/added-2.txt
rm "d10/e00/f10.txt" "d11/e00/f11.txt"
"$bin" checkpoint -q -m "10 files"
new=$(git rev-parse HEAD)
cp -a "$repo" "$work/b"
cp -a "$repo" "$work/c"

now_ns() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
ours=() readtree=() checkout=()
for run in $(seq 1 "$runs"); do
  for target in "$old" "$new"; do
    cd "$work/a"; t0=$(now_ns); "$bin" restore -q "$target"; t1=$(now_ns)
    cd "$work/b"; t2=$(now_ns); git read-tree -u --reset "$target"; t3=$(now_ns)
    cd "$work/c"; t4=$(now_ns); git checkout -q "$target" -- . && git clean -fdq; t5=$(now_ns)
    ours+=($(ms "$t0" "$t1")); readtree+=($(ms "$t2" "$t3")); checkout+=($(ms "$t4" "$t5"))
    # Restore and read-tree must leave the same work tree and index.
    [ "$(git -C "$work/a" write-tree)" = "$(git -C "$work/b" write-tree)" ] || { echo "trees differ" >&2; exit 1; }
    [ -z "$(git -C "$work/a" status --porcelain)" ] || { echo "restore left git status dirty" >&2; exit 1; }
  done
done
python3 - "${ours[*]}" "${readtree[*]}" "${checkout[*]}" "$files" <<'PY'
import statistics, sys
ours, rt, co = ([int(x) for x in a.split()] for a in sys.argv[1:4])
m_o, m_r, m_c = statistics.median(ours), statistics.median(rt), statistics.median(co)
print(f"{sys.argv[4]} files, 10-file difference, {len(ours)} restores, milliseconds")
print(f"git read-tree -u --reset      : median {m_r:.0f} (min {min(rt)}, max {max(rt)})")
print(f"git checkout -- . + git clean : median {m_c:.0f} (min {min(co)}, max {max(co)})")
print(f"git session restore           : median {m_o:.0f} (min {min(ours)}, max {max(ours)})")
print(f"ratio restore/read-tree       : {m_o / m_r:.2f}")
print(f"ratio restore/checkout+clean  : {m_o / m_c:.2f}")
PY
