#!/usr/bin/env python3
"""CURVE on radarpipe's sockets (docs/security.md), tried as a site and as an attacker would, with
keys from an independent implementation (pyzmq's zmq.auth, which writes and reads CZMQ's
certificate format) and attackers written here from the documented wire formats:

- `radarpipe keygen`'s certificates are read by pyzmq's zmq.auth.load_certificate, the secret
  one created 0600; pyzmq's own secret certificates (written group-readable) are refused by
  `run` until chmod 600.
- One `run` with a security: section (IQ bound, reports published): a plaintext client and a
  client with an unknown key each push a forged end-of-stream IQ frame, and a plaintext and an
  unknown-key subscriber listen. Then `replay` (a pyzmq key), `listen` and the Python client
  (their own keys) do the real work. The reports equal `process`'s on the recording; the forged
  end changed nothing (no frame rejected, none seen); the strangers received nothing; `stats`
  with a key reads the refusals by cause, `stats` without one reads nothing.
- Two `run` processes linked over tcp under CURVE: a plaintext peer and an unknown key send the
  downstream a Shutdown link message; the downstream stays up, its reports equal `process`'s,
  no link message rejected.

usage: security_interop.py BUILD_DIR SOURCE_DIR
"""

import json
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile

import zmq
import zmq.auth

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "clients", "python"))
from cli_checks import STREAM_MODE, STREAM_SCENE, check, finish, simulate, wait_line  # noqa: E402,E501
from radarpipe_client.stream import ReportStream  # noqa: E402

BUILD = sys.argv[1]
R = os.path.join(BUILD, "pipeline", "radarpipe")
CPIS = 10


def iq_end_frame(stream_id=1, sequence=0):
    """An IQ frame flagged end of stream, 0 pulses (docs/streaming.md, IQ frames version 1)."""
    h = struct.pack("<IHHIIQqQIIIHHfIdQ", 0x51495052, 1, 80, stream_id, 1, sequence, 0, 0, 0,
                    256, 2, 1, 0, 1.0, 0, 0.0, 0)
    assert len(h) == 80
    return [h, b""]


def link_shutdown():
    """A segment link Shutdown message (docs/streaming.md, segment links version 1)."""
    h = bytearray(96)
    struct.pack_into("<IHHHxxI", h, 0, 0x4b4c5052, 1, 96, 4, 1)  # magic, version, size, kind, id
    return [bytes(h), b""]


def curve_socket(ctx, kind, cert, server_cert):
    s = ctx.socket(kind)
    s.setsockopt(zmq.LINGER, 0)
    pub, sec = zmq.auth.load_certificate(cert)
    s.curve_publickey, s.curve_secretkey = pub, sec
    s.curve_serverkey = zmq.auth.load_certificate(server_cert)[0]
    return s


def attackers(ctx, endpoint, message):
    """A plaintext PUSH and an unknown-key PUSH, each sending `message` to `endpoint`."""
    plain = ctx.socket(zmq.PUSH)
    plain.setsockopt(zmq.LINGER, 0)
    stranger = curve_socket(ctx, zmq.PUSH, KEYS["stranger"][1], KEYS["run"][0])
    for s in (plain, stranger):
        s.connect(endpoint)
        try:
            s.send_multipart(message, zmq.NOBLOCK)
        except zmq.Again:
            pass  # nothing connected: nothing sent, which is what CURVE is for
    return [plain, stranger]


def reports_of(lines):
    return [json.loads(x) for x in lines if x.strip()]


def compare(name, got, ref):
    check([g["cpi"] for g in got] == [e["cpi"] for e in ref],
          f"{name}: CPIs {[g['cpi'] for g in got]}, expected {[e['cpi'] for e in ref]}")
    for g, e in zip(got, ref):
        check(g == e, f"{name}: CPI {e['cpi']} differs from process's report")


with tempfile.TemporaryDirectory() as tmp:
    simulate(R, tmp, STREAM_MODE, STREAM_SCENE, CPIS)
    subprocess.run([R, "process", "-i", "rec", "--mode", "mode.yaml", "--threads", "2", "-o",
                    "ref.jsonl"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(tmp, "ref.jsonl")) as f:
        ref = reports_of(f.readlines())
    check(len(ref) == CPIS, f"process wrote {len(ref)} reports")

    # Keys: radarpipe's own for run, pyzmq's for the others; the authorized folder holds the
    # public certificates of replay, listener and run (the second process of a chain).
    keys = os.path.join(tmp, "keys")
    os.makedirs(os.path.join(keys, "authorized"))
    kg = subprocess.run([R, "keygen", os.path.join(keys, "run")], capture_output=True, text=True)
    check(kg.returncode == 0, f"keygen: {kg.stderr}")
    check(kg.stdout.split() == [os.path.join(keys, "run.key"), os.path.join(keys, "run.key_secret")],
          f"keygen printed {kg.stdout!r}")
    pub, sec = zmq.auth.load_certificate(os.path.join(keys, "run.key_secret"))
    check(f"public key {pub.decode()}" in kg.stderr, "keygen's public key is not pyzmq's reading")
    check(sec is not None and len(sec) == 40, "pyzmq found no secret key in keygen's file")
    check(zmq.auth.load_certificate(os.path.join(keys, "run.key"))[1] is None,
          "keygen's public certificate holds a secret key")
    check(stat.S_IMODE(os.stat(os.path.join(keys, "run.key_secret")).st_mode) == 0o600,
          "keygen's secret certificate is not 0600")
    again = subprocess.run([R, "keygen", os.path.join(keys, "run")], capture_output=True,
                           text=True)
    check(again.returncode == 2 and "exists" in again.stderr, "keygen replaced a key")
    KEYS = {"run": (os.path.join(keys, "run.key"), os.path.join(keys, "run.key_secret"))}
    for name in ("replay", "listener", "client", "stranger"):
        p, s = zmq.auth.create_certificates(keys, name)
        KEYS[name] = (p, s)
    for name in ("replay", "listener", "client", "run"):
        shutil.copy(KEYS[name][0], os.path.join(keys, "authorized"))

    secure = os.path.join(tmp, "secure.yaml")
    with open(secure, "w") as f:
        f.write(STREAM_MODE + f"""pipeline:
  cpis_in_flight: 16
security:
  key: {KEYS['run'][1]}
  server_key: {KEYS['run'][0]}
  authorized_keys: {os.path.join(keys, 'authorized')}
""")

    # A secret key others can read is refused, naming the file and the cure.
    os.chmod(KEYS["replay"][1], 0o644)
    bad = subprocess.run([R, "replay", "rec", "--to", ">tcp://127.0.0.1:9", "--key",
                          KEYS["replay"][1], "--server-key", KEYS["run"][0]], cwd=tmp,
                         capture_output=True, text=True)
    check(bad.returncode == 2 and "mode 0644" in bad.stderr and "chmod 600" in bad.stderr,
          f"a 0644 secret key: exit {bad.returncode}, {bad.stderr}")
    for name in ("replay", "listener", "client", "stranger"):
        os.chmod(KEYS[name][1], 0o600)

    # --- One run, attacked while the real stream flows. ---
    ctx = zmq.Context()
    log = os.path.join(tmp, "run.log")
    run = subprocess.Popen([R, "run", "--mode", secure, "--from", "@tcp://127.0.0.1:*",
                            "--publish", "tcp://127.0.0.1:*", "--format", "both",
                            "--wait-subscribers", "2", "--threads", "2",
                            "--telemetry-interval", "0.2"], cwd=tmp, stderr=open(log, "w"))
    try:
        iq = wait_line(log, r"iq at (tcp://[0-9.]+:[0-9]+)", run)
        pub_ep = wait_line(log, r"publish at (tcp://[0-9.]+:[0-9]+)", run)
        wait_line(log, r"(ready)", run)
        with open(log) as f:
            check("WARNING" not in f.read(), "run warned although every endpoint has CURVE")
        # The attackers come first: had they got in, the forged end would end the stream.
        socks = attackers(ctx, iq, iq_end_frame())
        spies = []
        for s in (ctx.socket(zmq.SUB),
                  curve_socket(ctx, zmq.SUB, KEYS["stranger"][1], KEYS["run"][0])):
            s.setsockopt(zmq.LINGER, 0)
            s.setsockopt(zmq.SUBSCRIBE, b"")
            s.connect(pub_ep)
            spies.append(s)
        listen = subprocess.Popen([R, "listen", pub_ep, "--json", "--until-end", "--timeout",
                                   "60", "--key", KEYS["listener"][1], "--server-key",
                                   KEYS["run"][0]], cwd=tmp, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        client = ReportStream(pub_ep, timeout_s=60, context=ctx, key_file=KEYS["client"][1],
                              server_key_file=KEYS["run"][0])
        replay = subprocess.run([R, "replay", "rec", "--to", ">" + iq, "--rate", "2",
                                 "--key", KEYS["replay"][1], "--server-key", KEYS["run"][0]],
                                cwd=tmp, capture_output=True, text=True, timeout=120)
        check(replay.returncode == 0, f"replay: {replay.stderr}")
        got_client = [r.cpi for r in client]
        out, err = listen.communicate(timeout=60)
        check(listen.returncode == 0, f"listen: {err}")
        compare("listen with a key", reports_of(out.splitlines()), ref)
        check(got_client == [e["cpi"] for e in ref], f"the Python client got CPIs {got_client}")
        for s, who in zip(spies, ("a plaintext subscriber", "an unknown key")):
            check(s.poll(0) == 0, f"{who} received a message")
        stats = subprocess.run([R, "stats", pub_ep, "--json", "--count", "1", "--timeout", "10",
                                "--key", KEYS["listener"][1], "--server-key", KEYS["run"][0]],
                               cwd=tmp, capture_output=True, text=True)
        check(stats.returncode == 0, f"stats with a key: {stats.stderr}")
        tel = json.loads(stats.stdout.splitlines()[0]) if stats.returncode == 0 else {}
        sec = tel.get("security", {})
        print("telemetry security:", json.dumps(sec))
        check(sec.get("curve") is True, "telemetry does not say CURVE")
        causes = sec.get("peers_refused_by_cause", {})
        # A plaintext peer shows as not_curve, or as hung_up when it saw the mismatch first.
        check(causes.get("not_curve", 0) + causes.get("hung_up", 0) >= 2,
              f"plaintext peers refused: {causes}")
        check(causes.get("unknown_key", 0) >= 2, f"unknown keys refused: {causes}")
        check(sec.get("peers_accepted", 0) >= 4, f"peers accepted: {sec.get('peers_accepted')}")
        frames = tel.get("frames", {})
        check(frames.get("rejected") == 0, f"frames rejected: {frames}")
        nokey = subprocess.run([R, "stats", pub_ep, "--count", "1", "--timeout", "2"], cwd=tmp,
                               capture_output=True, text=True)
        check(nokey.returncode == 1 and nokey.stdout == "",
              f"stats without a key: exit {nokey.returncode}, {nokey.stdout!r}")
        check("WARNING" in nokey.stderr, "stats without keys did not warn about tcp")
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=30)
        check(run.returncode == 0, f"run exited {run.returncode}")
        with open(log) as f:
            text = f.read()
        stranger_pub = zmq.auth.load_certificate(KEYS["stranger"][0])[0].decode()
        check(f"its CURVE key {stranger_pub} is not among the 4 authorized keys" in text,
              "the unknown key's refusal was not logged")
        check("another security mechanism than CURVE" in text or "hung up" in text,
              "the plaintext refusal was not logged")
        client.close()
        for s in socks + spies:
            s.close()
    finally:
        if run.poll() is None:
            run.kill()
        with open(log) as f:
            print(f.read())

    # --- Two processes linked over tcp: forged Shutdown markers on the link. ---
    chain = os.path.join(tmp, "chain.yaml")
    with open(secure) as f:
        text = f.read()
    with open(chain, "w") as f:
        f.write(text.replace("pipeline:\n", """pipeline:
  segments:
    - {name: compress, stages: [pulse_compression]}
    - {name: detect, stages: [doppler, cfar, plots], from: 'tcp://127.0.0.1:*'}
"""))
    dlog, ulog = os.path.join(tmp, "down.log"), os.path.join(tmp, "up.log")
    down = subprocess.Popen([R, "run", "--mode", chain, "--segment", "detect", "--publish",
                             "tcp://127.0.0.1:*", "--format", "json", "--wait-subscribers", "1",
                             "--threads", "2"], cwd=tmp, stderr=open(dlog, "w"))
    up = None
    try:
        link = wait_line(dlog, r"link detect at (tcp://[0-9.]+:[0-9]+)", down)
        pub_ep = wait_line(dlog, r"publish at (tcp://[0-9.]+:[0-9]+)", down)
        socks = attackers(ctx, link, link_shutdown())
        sub = curve_socket(ctx, zmq.SUB, KEYS["listener"][1], KEYS["run"][0])
        for t in (b"detections.json", b"end.json", b"telemetry.json"):
            sub.setsockopt(zmq.SUBSCRIBE, t)
        sub.connect(pub_ep)
        up = subprocess.Popen([R, "run", "--mode", chain, "--segment", "compress", "--from",
                               "@tcp://127.0.0.1:*", "--link", "detect=" + link, "--threads", "2",
                               "--exit-at-end"], cwd=tmp, stderr=open(ulog, "w"))
        iq = wait_line(ulog, r"iq at (tcp://[0-9.]+:[0-9]+)", up)
        replay = subprocess.run([R, "replay", "rec", "--to", ">" + iq, "--rate", "2",
                                 "--key", KEYS["replay"][1], "--server-key", KEYS["run"][0]],
                                cwd=tmp, capture_output=True, text=True, timeout=120)
        check(replay.returncode == 0, f"replay into the chain: {replay.stderr}")
        got, telemetry = [], None
        while sub.poll(30000):
            topic, body = sub.recv_multipart()
            if topic == b"detections.json":
                got.append(json.loads(body))
            elif topic == b"end.json":
                break
        compare("two processes", got, ref)
        check(down.poll() is None, "the downstream exited: a forged Shutdown was honoured")
        down.send_signal(signal.SIGTERM)
        down.wait(timeout=30)
        up.wait(timeout=30)
        check(down.returncode == 0 and up.returncode == 0,
              f"exits: down {down.returncode}, up {up.returncode}")
        with open(dlog) as f:
            text = f.read()
        check("link messages rejected 0" in text, "the downstream rejected link messages")
        check("refused" in text, "the downstream logged no refusal")
        sub.close()
        for s in socks:
            s.close()
    finally:
        for p in (down, up):
            if p is not None and p.poll() is None:
                p.kill()
        for p in (dlog, ulog):
            with open(p) as f:
                print(f.read())
    ctx.term()

finish("security")
