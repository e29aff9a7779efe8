#!/usr/bin/env python3
"""Crash soak: `kill -9` of `evident serve` under concurrent HTTP appends, N times.

Each cycle: writer threads POST batches of events, each carrying a unique nonce, and record
every acknowledged index with its leaf hash and nonce, and every checkpoint they are handed;
at a random moment the server gets SIGKILL. Then, before and after the restart:

  * `evident log verify` passes on the data directory as the crash left it;
  * the new checkpoint is validly signed (`evident verify` with the log's verifier key), covers
    every acknowledged index, and is consistent (RFC 6962 proof from the server, checked here)
    with the checkpoint verified after the previous restart and with the largest and a few
    random checkpoints acknowledged during the cycle;
  * every entry acknowledged during the cycle is stored at its index with the acknowledged
    leaf hash and nonce (entries of earlier cycles are covered by the consistency proof from
    the previous verified checkpoint, under which they were checked, and by `log verify`,
    which checks each stored entry against its leaf hash). A final pass reads all of them back.

Usage: scripts/crash-soak.py [--binary target/debug/evident] [--cycles 100] [--writers 8]
Exit 0 only when every cycle passed; 1 on a failed check, with what failed.
"""

import argparse
import http.client
import os
import random
import shutil
import statistics
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
    check_signed,
    event,
    init_data_dir,
    log,
    main_guard,
    verify_log,
)

# What a connection to a server that is being killed may raise: the load simply stops.
DISCONNECTED = (OSError, http.client.HTTPException)


class Cycle:
    """What the writers of one cycle saw acknowledged, and what went wrong."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acknowledged = {}  # index -> (leaf hash, nonce)
        self.checkpoints = []  # every checkpoint handed out with an acknowledgement
        self.errors = []
        self.stop = threading.Event()


def writer(server, key, cycle_no, thread_no, cycle, batch_max, rng):
    try:
        conn = server.connection(timeout=60)
    except DISCONNECTED:
        return
    seq = 0
    while not cycle.stop.is_set():
        size = rng.randint(1, batch_max)
        nonces = [f"c{cycle_no}-w{thread_no}-{seq + i}" for i in range(size)]
        seq += size
        body = [event(n, thread_no) for n in nonces] if size > 1 else event(nonces[0], thread_no)
        try:
            status, answer, _ = call(conn, "POST", "/v1/events", key, body)
        except DISCONNECTED:
            return
        if status != 200:
            with cycle.lock:
                cycle.errors.append(f"writer {thread_no}: POST /v1/events answered {status} {answer}")
            return
        receipts = answer["events"]
        if len(receipts) != size:
            with cycle.lock:
                cycle.errors.append(f"writer {thread_no}: {size} events, {len(receipts)} receipts")
            return
        with cycle.lock:
            for nonce, receipt in zip(nonces, receipts):
                cycle.acknowledged[receipt["index"]] = (receipt["leaf_hash"], nonce)
            cycle.checkpoints.append(answer["checkpoint"])


def run():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", help="the evident binary (default target/debug/evident)")
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--writers", type=int, default=8, help="concurrent writer connections")
    parser.add_argument("--batch-max", type=int, default=5, help="largest batch a writer sends")
    parser.add_argument("--min-load", type=float, default=0.2, help="seconds of load, at least")
    parser.add_argument("--max-load", type=float, default=2.0, help="seconds of load, at most")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    binary = binary_path(args.binary)
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    rng = random.Random(seed)
    scratch = tempfile.mkdtemp(prefix="evident-crash-soak-")
    data_dir = os.path.join(scratch, "data")
    log(f"crash soak: {args.cycles} cycles, {args.writers} writers, seed {seed}, in {scratch}")
    key, vkey = init_data_dir(binary, data_dir)
    server = Server(binary, data_dir, os.path.join(scratch, "server.log")).start()
    everything = {}  # every acknowledged entry of the run
    verified = None  # the checkpoint checked after the previous restart
    checked_to = 0  # acknowledged entries below this index were read back and checked
    cycle_seconds, restart_seconds = [], []
    started = time.monotonic()
    try:
        for cycle_no in range(1, args.cycles + 1):
            began = time.monotonic()
            cycle = Cycle()
            threads = [
                threading.Thread(
                    target=writer,
                    args=(server, key, cycle_no, t, cycle, args.batch_max, random.Random(rng.random())),
                    daemon=True,
                )
                for t in range(args.writers)
            ]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(args.min_load, args.max_load))
            server.kill()
            cycle.stop.set()
            for t in threads:
                t.join(timeout=60)
                check(not t.is_alive(), "a writer hung after the server was killed")
            check(not cycle.errors, f"cycle {cycle_no}: " + "; ".join(cycle.errors[:5]))

            # The data directory as the crash left it.
            verified_on_disk = verify_log(binary, data_dir)
            check(verified_on_disk.startswith("ok:"), f"log verify after the crash: {verified_on_disk}")

            restart = time.monotonic()
            server.start()
            restart_seconds.append(time.monotonic() - restart)
            conn = server.connection(timeout=60)
            status, latest, _ = call(conn, "GET", "/v1/checkpoint", key)
            check(status == 200, f"GET /v1/checkpoint after restart: {status} {latest}")
            check_signed(binary, vkey, latest, scratch)
            if cycle.acknowledged:
                highest = max(cycle.acknowledged)
                check(
                    latest["size"] > highest,
                    f"cycle {cycle_no}: index {highest} was acknowledged but the log now has "
                    f"{latest['size']} entries",
                )
            olders = [verified] if verified else []
            if cycle.checkpoints:
                olders.append(max(cycle.checkpoints, key=lambda c: c["size"]))
                olders += rng.sample(cycle.checkpoints, min(3, len(cycle.checkpoints)))
            for older in olders:
                check_consistent(conn, key, older, latest)
            everything.update(cycle.acknowledged)
            read_back = check_acknowledged(conn, key, everything, checked_to, latest["size"])
            check(
                read_back == len(cycle.acknowledged),
                f"cycle {cycle_no}: read back {read_back} of {len(cycle.acknowledged)} acknowledged",
            )
            conn.close()
            verified, checked_to = latest, latest["size"]
            cycle_seconds.append(time.monotonic() - began)
            log(
                f"cycle {cycle_no}: {len(cycle.acknowledged)} acknowledged in "
                f"{len(cycle.checkpoints)} batches, log size {latest['size']}, "
                f"restart {restart_seconds[-1]:.2f} s, cycle {cycle_seconds[-1]:.2f} s"
            )

        # Everything acknowledged over the whole run, read back once more.
        conn = server.connection(timeout=120)
        total = check_acknowledged(conn, key, everything, 0, verified["size"] if verified else 0)
        check(total == len(everything), f"final read-back found {total} of {len(everything)}")
        server.stop()
        final = verify_log(binary, data_dir)
        check(final.startswith("ok:"), f"final log verify: {final}")
    except Failed:
        server.kill()
        log(f"server log tail:\n{server.log_tail()}")
        log(f"scratch directory kept: {scratch}")
        raise
    finally:
        if server.alive():
            server.kill()
    elapsed = time.monotonic() - started
    log(
        f"PASS crash soak: {args.cycles} kill -9 cycles, {len(everything)} acknowledged entries "
        f"all present, every checkpoint signed and consistent; {elapsed:.1f} s in all, "
        f"{statistics.mean(cycle_seconds):.2f} s per cycle (max {max(cycle_seconds):.2f}), "
        f"restart to listening {statistics.median(restart_seconds):.2f} s median "
        f"(max {max(restart_seconds):.2f}); final: {final}"
    )
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main_guard(run)
