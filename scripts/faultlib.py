"""What the fault scripts (crash-soak.py, full-disk.py, resource-limits.py) share: a real
`evident serve` process on a data directory of its own, a writer key, JSON over HTTP with
http.client, RFC 6962 consistency-proof checking and signed-checkpoint checking through
`evident verify`. Python standard library only.

Every check that fails raises `Failed`; the scripts turn it into a non-zero exit.
"""

import base64
import hashlib
import http.client
import json
import os
import select
import signal
import subprocess
import sys
import time


class Failed(Exception):
    """A check failed: the message says which and with what."""


def check(condition, message):
    if not condition:
        raise Failed(message)


def log(message):
    print(message, flush=True)


def binary_path(argument):
    """The `evident` binary: the argument, else target/debug/evident of this checkout."""
    path = argument or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "target", "debug", "evident"
    )
    path = os.path.abspath(path)
    check(os.access(path, os.X_OK), f"no evident binary at {path}; run `cargo build` first")
    return path


def run_cli(binary, data_dir, *args, check_rc=True):
    """Runs `evident ARGS` on the data directory; returns (rc, stdout, stderr)."""
    env = dict(os.environ, EVIDENT_DATA_DIR=data_dir, EVIDENT_OPERATOR="fault-harness")
    done = subprocess.run(
        [binary, *args], env=env, capture_output=True, text=True, timeout=600
    )
    if check_rc and done.returncode != 0:
        raise Failed(
            f"`evident {' '.join(args)}` exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    return done.returncode, done.stdout, done.stderr


def init_data_dir(binary, data_dir):
    """Creates the data directory and returns (writer API key, verifier key)."""
    run_cli(binary, data_dir, "init")
    _, out, _ = run_cli(binary, data_dir, "apikey", "create", "--role", "writer", "--label", "faults")
    key = out.strip().splitlines()[-1]
    check(key.startswith("evk_"), f"`apikey create` printed no key: {out!r}")
    _, vkey, _ = run_cli(binary, data_dir, "log", "vkey")
    return key, vkey.strip()


class Server:
    """One `evident serve` process on 127.0.0.1:0; its log lines go to `log_path`."""

    def __init__(self, binary, data_dir, log_path, extra_args=(), extra_env=None, preexec=None):
        self.preexec = preexec
        self.binary = binary
        self.data_dir = data_dir
        self.log_path = log_path
        self.extra_args = list(extra_args)
        self.extra_env = extra_env or {}
        self.process = None
        self.base = None
        self.host = None
        self.port = None

    def start(self, timeout=60):
        env = dict(os.environ, EVIDENT_DATA_DIR=self.data_dir, **self.extra_env)
        log_file = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--listen", "127.0.0.1:0", *self.extra_args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log_file,
            preexec_fn=self.preexec,
        )
        log_file.close()
        deadline = time.monotonic() + timeout
        line = b""
        while b"\n" not in line:
            left = deadline - time.monotonic()
            if left <= 0 or self.process.poll() is not None:
                self.kill()
                raise Failed(f"the server did not start within {timeout} s:\n{self.log_tail()}")
            ready, _, _ = select.select([self.process.stdout], [], [], left)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 4096)
                if not chunk:
                    continue
                line += chunk
        first = line.split(b"\n", 1)[0].decode()
        check(first.startswith("listening on http://"), f"unexpected first line {first!r}")
        self.base = first.split("listening on ", 1)[1].strip()
        hostport = self.base.split("//", 1)[1]
        self.host, port = hostport.rsplit(":", 1)
        self.port = int(port)
        return self

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def kill(self):
        """SIGKILL, as a power cut would: no shutdown path runs."""
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait()
            if self.process.stdout:
                self.process.stdout.close()

    def stop(self):
        """SIGTERM and wait for a clean exit."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()
                raise Failed("the server did not stop within 60 s of SIGTERM")
        if self.process.stdout:
            self.process.stdout.close()

    def status_field(self, name):
        """A field of /proc/PID/status in KiB (VmRSS, VmHWM)."""
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
        raise Failed(f"no {name} in /proc/{self.pid}/status")

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-lines:]).decode(errors="replace")
        except OSError:
            return "(no server log)"

    def connection(self, timeout=30):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


def call(conn, method, path, key=None, body=None, headers=None):
    """One request on `conn`; returns (status, parsed JSON or raw text, response headers)."""
    sent = dict(headers or {})
    if key:
        sent["Authorization"] = f"Bearer {key}"
    data = None
    if body is not None:
        data = body if isinstance(body, (bytes, bytearray)) else json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=data, headers=sent)
    response = conn.getresponse()
    raw = response.read()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return response.status, parsed, dict(response.getheaders())


def event(nonce, thread=0):
    """An audit event carrying `nonce` as its resource id, so a stored copy can be recognised."""
    return {
        "actor": {"id": f"fault-writer-{thread}"},
        "action": "fault.harness.write",
        "resource": {"type": "fault-nonce", "id": nonce},
        "outcome": "success",
        "metadata": {"nonce": nonce},
    }


def _node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_consistency(first, second, first_root, second_root, proof):
    """RFC 9162 section 2.1.4.2: is the tree of size `first` a prefix of the one of `second`?"""
    if first > second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return True
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _node(c, fr)
            sr = _node(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def check_consistent(conn, key, older, newer):
    """Asks the server for a consistency proof between two checkpoints and checks it."""
    if older["size"] == newer["size"]:
        check(
            older["root"] == newer["root"],
            f"two checkpoints of size {older['size']} with different roots",
        )
        return
    status, body, _ = call(
        conn, "GET", f"/v1/proof/consistency?from={older['size']}&to={newer['size']}", key
    )
    check(status == 200, f"consistency proof {older['size']}->{newer['size']}: {status} {body}")
    proof = [base64.b64decode(p) for p in body["proof"]]
    check(
        verify_consistency(
            older["size"],
            newer["size"],
            base64.b64decode(older["root"]),
            base64.b64decode(newer["root"]),
            proof,
        ),
        f"checkpoint at size {newer['size']} is NOT consistent with the one at {older['size']}",
    )


def check_signed(binary, vkey, checkpoint, scratch):
    """Checks a checkpoint's signature with `evident verify` and the log's verifier key."""
    path = os.path.join(scratch, "checkpoint.txt")
    with open(path, "w") as f:
        f.write(checkpoint["note"])
    done = subprocess.run(
        [binary, "verify", path, "--vkey", vkey], capture_output=True, text=True, timeout=60
    )
    check(
        done.returncode == 0,
        f"checkpoint at size {checkpoint['size']} does not verify: {done.stdout}{done.stderr}",
    )


def stored_leaves(conn, key, start, end):
    """{index: (leaf_hash, resource id)} of every stored entry in [start, end), by pages."""
    found = {}
    # The cursor means "entries after this index".
    cursor = start - 1 if start > 0 else None
    while True:
        query = "limit=1000&order=asc" + (f"&cursor={cursor}" if cursor is not None else "")
        status, body, _ = call(conn, "GET", f"/v1/events?{query}", key)
        check(status == 200, f"reading events after {cursor}: {status} {body}")
        for record in body["events"]:
            resource = record["event"].get("resource", {})
            found[record["index"]] = (record["leaf_hash"], resource.get("id"))
        if not body["events"] or body.get("next_cursor") is None:
            return found
        cursor = body["next_cursor"]
        if cursor + 1 >= end:
            return found


def check_acknowledged(conn, key, acknowledged, start, end):
    """Every acknowledged (index, leaf, nonce) with start <= index < end is stored as acked."""
    wanted = {i: v for i, v in acknowledged.items() if start <= i < end}
    if not wanted:
        return 0
    found = stored_leaves(conn, key, min(wanted), max(wanted) + 1)
    for index, (leaf, nonce) in wanted.items():
        got = found.get(index)
        check(got is not None, f"acknowledged entry {index} (nonce {nonce}) is MISSING")
        check(
            got == (leaf, nonce),
            f"entry {index} changed: acknowledged {(leaf, nonce)}, stored {got}",
        )
    return len(wanted)


def verify_log(binary, data_dir):
    """`evident log verify` over the whole data directory; returns its summary line."""
    _, out, err = run_cli(binary, data_dir, "log", "verify")
    return (out + err).strip().splitlines()[-1]


def main_guard(run):
    """Runs `run()`; exits 1 with the failure on `Failed`, 2 on anything unexpected."""
    try:
        run()
    except Failed as failure:
        print(f"FAILED: {failure}", file=sys.stderr, flush=True)
        sys.exit(1)
