#!/usr/bin/env python3
"""Full disk: `evident serve` with its data directory on a small tmpfs that fills up.

  1. Appends are acknowledged while there is space.
  2. A filler file takes every free byte; writer threads keep appending until each has been
     refused. Every refusal must be a documented error answer (507 `storage_full`), quick
     (no request may hang), and the server keeps answering reads and /healthz meanwhile.
  3. The filler is deleted: appends succeed again, without a restart.
  4. Every acknowledged entry (before, during and after the full disk) is stored as
     acknowledged, the checkpoints stay consistent, `evident log verify` passes, and all of it
     is still there after a restart.

Needs root (to mount the tmpfs). Outside CI a non-root run is skipped with exit 77; with
CI=true it fails. Usage: scripts/full-disk.py [--binary target/debug/evident] [--size-mb 24]
"""

import argparse
import errno
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import (  # noqa: E402
    Failed,
    Server,
    binary_path,
    call,
    check,
    check_acknowledged,
    check_consistent,
    event,
    init_data_dir,
    log,
    main_guard,
    verify_log,
)

SKIP = 77
REQUEST_TIMEOUT = 20  # seconds: an answer slower than this is a hang


def mount_tmpfs(where, size_mb):
    in_ci = os.environ.get("CI") == "true"
    if os.geteuid() != 0:
        if in_ci:
            raise Failed("the full-disk test needs root to mount a tmpfs, and CI=true")
        log("SKIP full disk: needs root to mount a tmpfs (run as root, or with CI=true to fail)")
        sys.exit(SKIP)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", where],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        if in_ci:
            raise Failed(f"cannot mount a tmpfs: {done.stderr.strip()}")
        log(f"SKIP full disk: cannot mount a tmpfs: {done.stderr.strip()}")
        sys.exit(SKIP)


def fill(path):
    """Writes `path` until the file system refuses; returns the bytes written."""
    written = 0
    with open(path, "wb", buffering=0) as f:
        for chunk in (1 << 20, 1 << 12, 1):
            block = b"\xff" * chunk
            while True:
                try:
                    f.write(block)
                    written += chunk
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    return written


class Appends:
    """Acknowledged entries and refusals, shared by writer threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acknowledged = {}
        self.checkpoints = []
        self.refusals = []  # (status, body, seconds)
        self.problems = []
        self.counter = 0

    def nonces(self, n, tag):
        with self.lock:
            start = self.counter
            self.counter += n
        return [f"{tag}-{start + i}" for i in range(n)]

    def append(self, conn, key, n, tag):
        """One batch of `n`; True when acknowledged."""
        nonces = self.nonces(n, tag)
        began = time.monotonic()
        status, body, headers = call(conn, "POST", "/v1/events", key, [event(x) for x in nonces])
        took = time.monotonic() - began
        with self.lock:
            if status == 200:
                for nonce, receipt in zip(nonces, body["events"]):
                    self.acknowledged[receipt["index"]] = (receipt["leaf_hash"], nonce)
                self.checkpoints.append(body["checkpoint"])
                return True
            self.refusals.append((status, body, took, headers))
            return False


def check_refusal(status, body, took, headers):
    check(status == 507, f"a full disk was answered {status} {body}, not 507")
    check(
        isinstance(body, dict) and body.get("error", {}).get("code") == "storage_full",
        f"a full disk was answered without error code storage_full: {body}",
    )
    check(took < REQUEST_TIMEOUT, f"a refusal took {took:.1f} s")


def run():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", help="the evident binary (default target/debug/evident)")
    parser.add_argument("--size-mb", type=int, default=24, help="size of the tmpfs")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="fill-and-free rounds")
    args = parser.parse_args()
    binary = binary_path(args.binary)
    scratch = tempfile.mkdtemp(prefix="evident-full-disk-")
    mnt = os.path.join(scratch, "disk")
    os.mkdir(mnt)
    mount_tmpfs(mnt, args.size_mb)
    server = None
    try:
        data_dir = os.path.join(mnt, "data")
        key, _ = init_data_dir(binary, data_dir)
        server = Server(binary, data_dir, os.path.join(scratch, "server.log")).start()
        conn = server.connection(timeout=REQUEST_TIMEOUT)
        appends = Appends()
        for _ in range(20):
            check(appends.append(conn, key, 10, "before"), f"append with space: {appends.refusals}")
        filler = os.path.join(mnt, "filler")
        for round_no in range(1, args.rounds + 1):
            filled = fill(filler)
            if round_no % 2 == 0:
                # Leave the last 2 MiB to the appends themselves: the disk fills mid-commit.
                filled -= 2 << 20
                os.truncate(filler, filled)
            log(f"round {round_no}: filled the disk with {filled / 1e6:.1f} MB more")
            refused = {t: threading.Event() for t in range(args.writers)}
            acked_when_full = len(appends.acknowledged)

            def writer(t):
                c = server.connection(timeout=REQUEST_TIMEOUT)
                # Until this writer is refused twice: the WAL may still have room for a while.
                misses = 0
                for _ in range(5000):
                    try:
                        if not appends.append(c, key, 50, f"full{round_no}-w{t}"):
                            misses += 1
                            if misses >= 2:
                                refused[t].set()
                                return
                    except (OSError, http.client.HTTPException) as e:
                        with appends.lock:
                            appends.problems.append(f"writer {t}: {type(e).__name__}: {e}")
                        return

            threads = [threading.Thread(target=writer, args=(t,), daemon=True) for t in refused]
            for t in threads:
                t.start()
            # Reads and health keep answering while the disk is full.
            while any(t.is_alive() for t in threads):
                status, _, _ = call(conn, "GET", "/healthz")
                check(status == 200, f"/healthz answered {status} on a full disk")
                status, body, _ = call(conn, "GET", "/v1/checkpoint", key)
                check(status == 200, f"GET /v1/checkpoint answered {status} {body} on a full disk")
                time.sleep(0.2)
            for t in threads:
                t.join()
            check(not appends.problems, "; ".join(appends.problems[:5]))
            check(all(e.is_set() for e in refused.values()), "a writer was never refused")
            check(server.alive(), f"the server died on a full disk:\n{server.log_tail()}")
            for refusal in appends.refusals:
                check_refusal(*refusal)
            slowest = max(r[2] for r in appends.refusals)
            log(
                f"round {round_no}: {len(appends.acknowledged) - acked_when_full} entries "
                f"acknowledged after the fill, then {len(appends.refusals)} refusals, all 507 "
                f"storage_full, slowest {slowest * 1000:.0f} ms; e.g. "
                f"{appends.refusals[0][1]['error']['message']!r}"
            )
            appends.refusals.clear()

            if round_no == args.rounds:
                # A crash while the disk is full: the server must come back and behave the same.
                conn.close()
                server.kill()
                server.start()
                conn = server.connection(timeout=REQUEST_TIMEOUT)
                status, body, _ = call(conn, "GET", "/v1/checkpoint", key)
                check(status == 200, f"GET /v1/checkpoint after a restart on a full disk: {status} {body}")
                while appends.append(conn, key, 50, "full-restarted"):
                    pass
                for refusal in appends.refusals:
                    check_refusal(*refusal)
                appends.refusals.clear()
                log(f"round {round_no}: killed and restarted on the full disk: reads answer, appends get 507")

            os.remove(filler)
            freed = time.monotonic()
            check(appends.append(conn, key, 10, f"after{round_no}"), f"append after freeing space: {appends.refusals}")
            log(f"round {round_no}: space freed; the next append succeeded after {time.monotonic() - freed:.3f} s")
            for _ in range(20):
                check(appends.append(conn, key, 10, f"after{round_no}"), f"append after freeing: {appends.refusals}")

        status, latest, _ = call(conn, "GET", "/v1/checkpoint", key)
        check(status == 200, f"GET /v1/checkpoint: {status} {latest}")
        for older in appends.checkpoints[:: max(1, len(appends.checkpoints) // 20)]:
            check_consistent(conn, key, older, latest)
        count = check_acknowledged(conn, key, appends.acknowledged, 0, latest["size"])
        check(count == len(appends.acknowledged), "an acknowledged entry is missing")
        conn.close()
        server.stop()
        summary = verify_log(binary, data_dir)
        check(summary.startswith("ok:"), f"log verify: {summary}")
        server.start()
        conn = server.connection(timeout=REQUEST_TIMEOUT)
        count = check_acknowledged(conn, key, appends.acknowledged, 0, latest["size"])
        check(count == len(appends.acknowledged), "an acknowledged entry is missing after restart")
        conn.close()
        server.stop()
        log(
            f"PASS full disk ({args.size_mb} MB tmpfs, {args.rounds} rounds): every append on a "
            f"full disk refused with 507 storage_full, reads kept answering, appends resumed "
            f"without a restart once space returned; {len(appends.acknowledged)} acknowledged "
            f"entries all present after a restart; {summary}"
        )
    except Failed:
        if server is not None:
            log(f"server log tail:\n{server.log_tail()}")
        raise
    finally:
        if server is not None and server.alive():
            server.kill()
        subprocess.run(["umount", mnt], check=False)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main_guard(run)
