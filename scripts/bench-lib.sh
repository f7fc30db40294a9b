# shellcheck shell=bash
# bench-lib.sh - reusable helpers for mediapeer's benchmark scripts.
#
# usage: source "$(dirname "$0")/bench-lib.sh"     (bash >= 5, run as root)
#
# Helpers (all prefixed bench_):
#   bench_log MSG... / bench_die MSG...      messages on stderr / fatal error
#   bench_require_root; bench_require_cmds CMD...
#   bench_now / bench_now_us                 wall clock seconds / integer µs (no fork)
#   bench_cleanup_add 'shell code'           run on EXIT/INT/TERM, last added first
#   bench_netns_spawn VAR LOG CMD...         start CMD in a fresh loopback-only network
#                                            namespace, in the background; VAR=its PID
#   bench_netns_verify PID                   die unless PID is in an isolated netns with only lo
#   bench_kill PID [TIMEOUT_S]               TERM, wait, then KILL one process (by PID only)
#   bench_kill_tree PID [TIMEOUT_S]          same for PID and all its descendants
#   bench_children PID / bench_descendants   direct children / all descendants (PIDs)
#   bench_proc_snapshot PID                  "rss_kb hwm_kb ticks cticks vcs nvcs read_b write_b"
#   bench_sample_start VAR PID FILE [SECS]   background sampler of PID and its children -> TSV
#   bench_sample_stop SAMPLER_PID
#   bench_sample_peak FILE [PID|ROLE]        max VmHWM (kB) in a sample file (PID or main|child)
#   bench_idle_window PID SECONDS            "secs ticks vcs nvcs wakeups_per_s ticks_per_s"
#   bench_drop_caches / bench_warm_tree DIR  cold or warm page cache (sets BENCH_CACHE)
#   bench_write_bytes PID                    /proc/PID/io write_bytes
#   bench_wait_until TIMEOUT INTERVAL CMD... poll CMD until it succeeds (1 on timeout;
#                                            TIMEOUT in whole seconds)
#   bench_wait_log FILE REGEX TIMEOUT [FROM_BYTE] [PID] [EXIT_PID]
#                                            wait for REGEX in a growing log; prints the
#                                            wall time it was seen (fails on timeout or if
#                                            PID exits first); with EXIT_PID also the time
#                                            that process exited
#   bench_logwatch_start / bench_logwatch_wait   time a forked worker's log marker and exit
#                                            precisely (watcher runs before the spawn)
#   bench_inotify_watches PID                number of inotify watches PID holds
#   bench_md_header FILE COL... / bench_md_row FILE VAL...   markdown table
#   bench_json KEY=VALUE...                  one JSON object on one line (numbers unquoted,
#                                            KEY:=RAWJSON for raw values)
#   bench_median N... / bench_calc EXPR      small numeric helpers (python3)
#
# Everything here is bounded in time and never kills by name. Sourcing installs an
# EXIT/INT/TERM trap that runs the cleanup stack: add to it, do not replace the trap.

if [[ -n "${BENCH_LIB_LOADED:-}" ]]; then return 0; fi
BENCH_LIB_LOADED=1
BENCH_CACHE="${BENCH_CACHE:-unknown}"
# shellcheck disable=SC2034  # used by the scripts that source this file
BENCH_CLK_TCK="$(getconf CLK_TCK)"

bench_log() { printf '[%s %(%H:%M:%S)T] %s\n' "${BENCH_NAME:-bench}" -1 "$*" >&2; }
bench_die() { printf '%s: error: %s\n' "${BENCH_NAME:-bench}" "$*" >&2; exit 1; }

bench_require_root() { [[ $EUID -eq 0 ]] || bench_die "must run as root (netns, drop_caches)"; }

bench_require_cmds() {
    local c missing=()
    for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
    ((${#missing[@]} == 0)) || bench_die "missing commands: ${missing[*]}"
}

bench_now() { printf '%s\n' "$EPOCHREALTIME"; }

# ---------------------------------------------------------------- cleanup stack
BENCH_CLEANUPS=()
bench_cleanup_add() { BENCH_CLEANUPS+=("$1"); }
bench_cleanup_run() {
    local i rc=$?
    trap - EXIT INT TERM
    for ((i = ${#BENCH_CLEANUPS[@]} - 1; i >= 0; i--)); do
        eval "${BENCH_CLEANUPS[i]}" || true
    done
    BENCH_CLEANUPS=()
    return "$rc"
}
trap 'bench_cleanup_run' EXIT
trap 'bench_log "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- processes
bench_kill() {
    local pid=$1 timeout=${2:-10} i
    [[ -n "$pid" ]] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 20; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        # reap if it is our child
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        bench_log "pid $pid ignored TERM for ${timeout}s, sending KILL"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

bench_children() { pgrep -P "$1" 2>/dev/null || true; }

bench_descendants() {
    local c
    for c in $(bench_children "$1"); do
        echo "$c"
        bench_descendants "$c"
    done
}

# Kill PID and everything below it (collected by parent PID first, never by name).
bench_kill_tree() {
    local pid=$1 timeout=${2:-10} d
    [[ -n "$pid" ]] || return 0
    local -a kids
    mapfile -t kids < <(bench_descendants "$pid")
    bench_kill "$pid" "$timeout"
    for d in "${kids[@]}"; do bench_kill "$d" 2; done
}

# Start CMD in a new network namespace that only has a loopback interface.
# unshare(1) execs sh which execs CMD, so the PID returned is CMD's own PID.
bench_netns_spawn() {
    local -n _pid_out=$1
    local logf=$2
    shift 2
    unshare --net -- sh -c 'ip link set lo up && exec "$@"' bench-netns "$@" >"$logf" 2>&1 &
    _pid_out=$!
    bench_cleanup_add "bench_kill_tree $_pid_out 10"
    bench_netns_verify "$_pid_out"
}

bench_netns_verify() {
    local pid=$1 i mine theirs links
    mine=$(readlink "/proc/$$/ns/net") || bench_die "cannot read our own network namespace"
    for ((i = 0; i < 100; i++)); do  # exec chain settles within ms
        theirs=$(readlink "/proc/$pid/ns/net" 2>/dev/null) || bench_die "pid $pid exited at start"
        [[ "$theirs" != "$mine" ]] && break
        sleep 0.01
    done
    if [[ "$theirs" == "$mine" ]]; then
        kill -KILL "$pid" 2>/dev/null || true
        bench_die "pid $pid is in the host network namespace; killed it"
    fi
    links=$(nsenter -t "$pid" -n ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')
    if [[ "$links" != "lo " ]]; then
        kill -KILL "$pid" 2>/dev/null || true
        bench_die "netns of pid $pid has interfaces '$links', expected only lo; killed it"
    fi
}

# "rss_kb hwm_kb ticks cticks vcs nvcs read_bytes write_bytes"
# ticks = utime+stime of all threads; cticks = reaped children's; vcs/nvcs summed over threads.
bench_proc_snapshot() {
    local pid=$1 k v rest rss=0 hwm=0 vcs=0 nvcs=0 rb=0 wb=0 t stat
    local -a f
    [[ -r /proc/$pid/status ]] || return 1
    while read -r k v rest; do
        case $k in VmRSS:) rss=$v ;; VmHWM:) hwm=$v ;; esac
    done 2>/dev/null <"/proc/$pid/status" || return 1
    for t in /proc/"$pid"/task/*/status; do
        while read -r k v rest; do
            case $k in
                voluntary_ctxt_switches:) vcs=$((vcs + v)) ;;
                nonvoluntary_ctxt_switches:) nvcs=$((nvcs + v)) ;;
            esac
        done 2>/dev/null <"$t" || true
    done
    read -r stat 2>/dev/null <"/proc/$pid/stat" || return 1
    stat=${stat##*) }   # fields from 3 on; comm may contain spaces
    read -r -a f <<<"$stat"
    # f[11]=utime f[12]=stime f[13]=cutime f[14]=cstime (stat fields 14..17)
    while read -r k v rest; do
        case $k in read_bytes:) rb=$v ;; write_bytes:) wb=$v ;; esac
    done 2>/dev/null <"/proc/$pid/io" || true
    printf '%s %s %s %s %s %s %s %s\n' "$rss" "$hwm" "$((f[11] + f[12]))" "$((f[13] + f[14]))" \
        "$vcs" "$nvcs" "$rb" "$wb"
}

bench_write_bytes() { awk '/^write_bytes:/ {print $2}' "/proc/$1/io"; }

# Background sampler: one TSV line per process per tick:
# t pid role rss_kb hwm_kb ticks cticks vcs nvcs read_b write_b   (role: main|child)
bench_sample_start() {
    local -n _spid=$1
    local pid=$2 out=$3 interval=${4:-0.05}
    printf 't\tpid\trole\trss_kb\thwm_kb\tticks\tcticks\tvcs\tnvcs\tread_b\twrite_b\n' >"$out"
    (
        trap - EXIT INT TERM
        while kill -0 "$pid" 2>/dev/null; do
            now=$EPOCHREALTIME
            if s=$(bench_proc_snapshot "$pid"); then
                printf '%s\t%s\tmain\t%s\n' "$now" "$pid" "${s// /$'\t'}"
            fi
            for c in $(bench_children "$pid"); do
                if s=$(bench_proc_snapshot "$c"); then
                    printf '%s\t%s\tchild\t%s\n' "$now" "$c" "${s// /$'\t'}"
                fi
            done
            sleep "$interval"
        done
    ) >>"$out" 2>/dev/null &
    _spid=$!
    bench_cleanup_add "kill $_spid 2>/dev/null || true"
}

bench_sample_stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# max VmHWM in kB over a sample file; optional role (main|child) or pid filter
bench_sample_peak() {
    awk -F'\t' -v sel="${2:-}" 'NR > 1 && (sel == "" || $2 == sel || $3 == sel) && $5 > m {m = $5}
        END {print m + 0}' "$1"
}

# Idle window: CPU ticks and voluntary context switches (all threads) of PID over SECONDS.
# Prints "secs ticks vcs nvcs wakeups_per_s ticks_per_s".
bench_idle_window() {
    local pid=$1 secs=$2 a b t0 t1
    read -r -a a < <(bench_proc_snapshot "$pid") || bench_die "pid $pid gone"
    t0=$EPOCHREALTIME
    sleep "$secs"
    read -r -a b < <(bench_proc_snapshot "$pid") || bench_die "pid $pid died during idle window"
    t1=$EPOCHREALTIME
    python3 - "$t0" "$t1" "$((b[2] + b[3] - a[2] - a[3]))" "$((b[4] - a[4]))" "$((b[5] - a[5]))" <<'EOF'
import sys
t0, t1, ticks, vcs, nvcs = float(sys.argv[1]), float(sys.argv[2]), *map(int, sys.argv[3:])
d = t1 - t0
print(f"{d:.3f} {ticks} {vcs} {nvcs} {vcs / d:.3f} {ticks / d:.4f}")
EOF
}

# ---------------------------------------------------------------- page cache
bench_drop_caches() {
    sync
    echo 3 >/proc/sys/vm/drop_caches
    BENCH_CACHE=cold
}

bench_warm_tree() {
    local dir=$1
    timeout 600 find "$dir" -type f -print0 | timeout 600 xargs -0 -r cat >/dev/null ||
        bench_die "warming the page cache for $dir failed or timed out"
    BENCH_CACHE=warm
}

# ---------------------------------------------------------------- waiting
bench_now_us() { printf '%s\n' "${EPOCHREALTIME/./}"; }

bench_wait_until() {
    local timeout=$1 interval=$2 deadline
    shift 2
    deadline=$(( ${EPOCHREALTIME/./} + ${timeout%.*} * 1000000 ))
    while :; do
        "$@" && return 0
        (( ${EPOCHREALTIME/./} > deadline )) && return 1
        sleep "$interval"
    done
}

# Poll a log file (no forks while waiting) until a line matches REGEX.
# Prints "<wall time when seen> <byte offset after the line> <the line>".
# PID (optional): fail early if that process exits before the line shows up.
# EXIT_PID (optional): also wait, after the line, until EXIT_PID has exited (or is a
# zombie) and print "<t_seen> <t_exit> <offset> <line>" instead; t_exit < t_seen means
# it exited before the line was seen.
bench_wait_log() {
    local file=$1 regex=$2 timeout=$3 from=${4:-0} pid=${5:-0} exit_pid=${6:-0}
    python3 - "$file" "$regex" "$timeout" "$from" "$pid" "$exit_pid" <<'EOF'
import os, re, sys, time
path, rx, timeout = sys.argv[1], re.compile(sys.argv[2]), float(sys.argv[3])
off, pid, exit_pid = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
deadline = time.monotonic() + timeout

def gone(p):
    try:
        with open(f"/proc/{p}/stat", "rb") as fh:
            st = fh.read().rsplit(b")", 1)[1].split()[0]
        return st in (b"Z", b"X")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return True

buf, fh, seen, t_exit = b"", None, None, None
while True:
    if exit_pid and t_exit is None and gone(exit_pid):
        t_exit = time.time()
    if fh is None:
        try:
            fh = open(path, "rb"); fh.seek(off)
        except FileNotFoundError:
            fh = None
    if fh is not None and seen is None:
        chunk = fh.read()
        if chunk:
            buf += chunk
            while b"\n" in buf and seen is None:
                line, buf = buf.split(b"\n", 1)
                off += len(line) + 1
                text = line.decode("utf-8", "replace")
                if rx.search(text):
                    seen = (time.time(), off, text)
            if seen is None:
                continue
    if seen is not None and (not exit_pid or t_exit is not None):
        if exit_pid:
            print(f"{seen[0]:.6f} {t_exit:.6f} {seen[1]} {seen[2]}")
        else:
            print(f"{seen[0]:.6f} {seen[1]} {seen[2]}")
        sys.exit(0)
    if time.monotonic() > deadline:
        what = f"/{rx.pattern}/ in {path}" if seen is None else f"pid {exit_pid} to exit"
        print(f"timeout after {timeout}s waiting for {what}", file=sys.stderr)
        sys.exit(1)
    if seen is None and pid and gone(pid):
        print(f"pid {pid} exited while waiting for /{rx.pattern}/ in {path}", file=sys.stderr)
        sys.exit(2)
    time.sleep(0.002)
EOF
}

# Background watcher for "a server forks a worker, the worker logs REGEX and exits"
# (e.g. a media scan). Start it BEFORE spawning the server so nothing is missed:
#   bench_logwatch_start VAR RESULT LOG REGEX FROM_BYTE MAINPID_FILE TIMEOUT
#   ...spawn the server...; echo "$pid" >MAINPID_FILE
#   bench_logwatch_wait "$VAR" RESULT    -> "t_marker t_worker_exit worker_pid line"
# Times are wall clock (same clock as bench_now). The worker is the child of the main
# PID that runs main's own executable (a fork without exec) and exits last;
# t_worker_exit is when it exited or became a zombie (= t_marker and pid 0 if no such
# child was seen). Polls every 2 ms; fails if the main PID exits before the marker.
bench_logwatch_start() {
    local -n _wpid=$1
    local result=$2 log=$3 regex=$4 from=$5 pidfile=$6 timeout=$7
    rm -f "$result" "$result.ready"
    python3 - "$result" "$log" "$regex" "$from" "$pidfile" "$timeout" <<'EOF' &
import os, re, sys, time
result, path, rx, off, pidfile, timeout = sys.argv[1], sys.argv[2], re.compile(sys.argv[3]), int(sys.argv[4]), sys.argv[5], float(sys.argv[6])
deadline = time.monotonic() + timeout

def state(p):
    try:
        with open(f"/proc/{p}/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return fields[0], int(fields[1])
    except (OSError, IndexError, ValueError):
        return None, None

def gone(p):
    st, _ = state(p)
    return st is None or st in (b"Z", b"X")

def exe(p):
    try:
        return os.readlink(f"/proc/{p}/exe")
    except OSError:
        return None

def fail(msg):
    with open(result + ".tmp", "w") as fh:
        fh.write("ERROR " + msg + "\n")
    os.rename(result + ".tmp", result)
    sys.exit(1)

# Candidates are children of main that run main's executable when first seen. Helpers
# that system() runs (minidlnad does `sh -c "rm -rf ..."`) also start as forks of main
# and keep its exe until they exec, so a candidate seen later with another exe is
# dropped, and at the end the worker is the candidate that exits last (the helper is
# long gone when a scan ends). /proc is listed every 2 ms for the first 2 s after the
# main PID is known, then every 20 ms, and only PIDs above main's are examined.
open(result + ".ready", "w").close()
main, main_exe, t_main = 0, None, None
cands = {}   # pid -> [bad, t_exit]
buf, fh, seen, last_scan = b"", None, None, 0.0
while True:
    now = time.time()
    if not main:
        try:
            main = int(open(pidfile).read().strip() or 0)
        except (OSError, ValueError):
            main = 0
        if main:
            main_exe, t_main = exe(main), now
    if main and seen is None and now - last_scan >= (0.002 if now - t_main < 2 else 0.02):
        last_scan = now
        for d in os.listdir("/proc"):
            if d.isdigit() and int(d) > main and int(d) not in cands and state(d)[1] == main:
                e = exe(d)
                cands[int(d)] = [e is not None and e != main_exe, None]
    for pid, c in cands.items():
        if c[1] is None:
            if gone(pid):
                c[1] = now
            elif not c[0]:
                e = exe(pid)   # readlink can fail transiently: only a real other exe counts
                if e is not None and e != main_exe:
                    c[0] = True
    if fh is None:
        try:
            fh = open(path, "rb"); fh.seek(off)
        except FileNotFoundError:
            fh = None
    if fh is not None and seen is None:
        chunk = fh.read()
        if chunk:
            buf += chunk
            while b"\n" in buf and seen is None:
                line, buf = buf.split(b"\n", 1)
                text = line.decode("utf-8", "replace")
                if rx.search(text):
                    seen = (time.time(), text)
            if seen is None:
                continue
    if seen is not None:
        good = {p: c for p, c in cands.items() if not c[0]}
        if all(c[1] is not None for c in good.values()):
            worker = max(good, key=lambda p: good[p][1]) if good else 0
            t_exit = good[worker][1] if good else seen[0]
            with open(result + ".tmp", "w") as out:
                out.write(f"{seen[0]:.6f} {t_exit:.6f} {worker} {seen[1]}\n")
            os.rename(result + ".tmp", result)
            sys.exit(0)
    if time.monotonic() > deadline:
        fail(f"timeout after {timeout}s (marker seen: {seen is not None}, candidates {cands})")
    if main and seen is None and gone(main):
        fail(f"main pid {main} exited before /{rx.pattern}/ appeared in {path}")
    time.sleep(0.002)
EOF
    _wpid=$!
    bench_cleanup_add "kill $_wpid 2>/dev/null || true"
    local i
    for ((i = 0; i < 500; i++)); do [[ -e $result.ready ]] && return 0; sleep 0.01; done
    bench_die "log watcher did not start"
}

bench_logwatch_wait() {
    local wpid=$1 result=$2 line
    # poll, not `wait`: callers often run this in a $(...) subshell
    while [[ ! -s $result ]] && kill -0 "$wpid" 2>/dev/null; do sleep 0.01; done
    [[ -s $result ]] || bench_die "log watcher $wpid left no result"
    line=$(<"$result")
    [[ $line != ERROR* ]] || bench_die "log watcher: ${line#ERROR }"
    echo "$line"
}

bench_inotify_watches() {
    local pid=$1 n=0 f line
    for f in /proc/"$pid"/fdinfo/*; do
        while IFS= read -r line; do
            [[ $line == "inotify wd:"* ]] && n=$((n + 1))
        done <"$f" 2>/dev/null || true
    done
    echo "$n"
}

# ---------------------------------------------------------------- output
bench_md_header() {
    local file=$1 c head="|" sep="|"
    shift
    [[ -s "$file" ]] && return 0
    for c in "$@"; do head+=" $c |"; sep+="---|"; done
    printf '%s\n%s\n' "$head" "$sep" >>"$file"
}

bench_md_row() {
    local file=$1 c row="|"
    shift
    for c in "$@"; do row+=" $c |"; done
    printf '%s\n' "$row" >>"$file"
}

bench_json() {
    python3 - "$@" <<'EOF'
import json, sys
out = {}
for arg in sys.argv[1:]:
    k, v = arg.split("=", 1)
    if k.endswith(":"):          # KEY:=RAWJSON
        out[k[:-1]] = json.loads(v)
        continue
    try:
        out[k] = int(v)
    except ValueError:
        try:
            f = float(v)
            out[k] = f if f == f and abs(f) != float("inf") else v
        except ValueError:
            out[k] = v
print(json.dumps(out, ensure_ascii=False))
EOF
}

bench_median() { python3 -c 'import statistics,sys; print(round(statistics.median(map(float, sys.argv[1:])), 6))' "$@"; }
bench_calc() { python3 -c "import sys; print(eval(sys.argv[1], {}, {}))" "$1"; }
