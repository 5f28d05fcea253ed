#!/usr/bin/env bash
# Writes fuzz/seeds/TARGET/ from the test vectors (daemon/core/tests/vectors), the JSON-RPC
# examples in proto/src/methods.rs, the sample config and the simulator's control lines used
# by the tests, each in the input format of its target (see fuzz/fuzz_targets/*.rs).
# Deterministic: rerunning gives the same files. scripts/fuzz.sh passes fuzz/seeds/TARGET as a
# second corpus dir. Needs python3 (standard library only).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec python3 - "$root" <<'PY'
import hashlib, json, os, re, shutil, sys

root = sys.argv[1]
vectors = os.path.join(root, "daemon/core/tests/vectors")
out = os.path.join(root, "fuzz/seeds")
MEDIA_MAX = 4096   # media bodies cut to this many bytes
shutil.rmtree(out, ignore_errors=True)
counts = {}

def seed(target, data):
    if isinstance(data, str):
        data = data.encode()
    os.makedirs(os.path.join(out, target), exist_ok=True)
    name = hashlib.sha1(data).hexdigest()  # libFuzzer's own naming: duplicates collapse
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)
    counts[target] = counts.get(target, 0) + 1

def load(name):
    with open(os.path.join(vectors, name)) as f:
        return json.load(f)

def base64_contents(node):
    """Every `{"base64": ...}` content in a node of DESIGN.md section 4's JSON form."""
    import base64
    if isinstance(node, dict):
        if set(node) == {"base64"}:
            yield base64.b64decode(node["base64"])
        for value in node.values():
            yield from base64_contents(value)
    elif isinstance(node, list):
        for value in node:
            yield from base64_contents(value)

# Frames: whole server messages for open_frames (the target uses the vectors' keys), their
# plaintext nodes for decode_node, the relayed protobuf for web_message_info, and sim_frames'
# own framing: kind byte (0 text, 1 sealed by the target, 2 raw), length byte, bytes.
frames = load("frames.json")
sim = []
for case in frames["frames"] + frames.get("bad", []):
    frame = bytes.fromhex(case["frame"])
    seed("open_frames", frame)
    if "node_bytes" in case:
        node = bytes.fromhex(case["node_bytes"])
        seed("decode_node", node)
        if len(node) <= 255:
            sim.append(bytes([1, len(node)]) + node)
    for blob in base64_contents(case.get("node")):
        seed("web_message_info", blob)
    if len(frame) <= 255:
        sim.append(bytes([2, len(frame)]) + frame)
for text in ['1.--1,["admin","test"]', '2.--2,["query","exist","4915100000001@c.us"]',
             '3.--3,["action","presence","available"]']:
    seed("open_frames", text)
    sim.append(bytes([0, len(text)]) + text.encode())
for frame in sim:
    seed("sim_frames", frame)
for i in range(0, len(sim), 4):
    seed("sim_frames", b"".join(sim[i:i + 4]))

# Login: the init reply, then the server's Conn (and the tampered one) from keys.json.
init = {"status": 200, "ref": "1@2J0468/gwd3JpkzMNaKVISAIH", "ttl": 20000, "update": False,
        "curr": "2.2142.12", "time": 1600000000000}
for case in load("keys.json"):
    lines = [init, ["Conn", case["conn"]], ["Stream", "update", False, "2.2142.12"],
             ["Props", {"imageMaxKBytes": 1024}]]
    seed("login_frames", "\n".join(json.dumps(line) for line in lines) + "\n")
    seed("open_frames", "s1," + json.dumps(["Conn", case["conn"]]))

# Media bodies, cut to MEDIA_MAX (the MAC then fails, but the block loop is reached).
for case in load("media.json"):
    seed("media_decrypt", bytes.fromhex(case["body"])[:MEDIA_MAX])

# JSON-RPC: the request lines of methods.rs's doc comments. rpc_lines: a chunk-size byte, then
# lines; rpc_params: a byte picking the method in Call::NAMES order, then the params.
with open(os.path.join(root, "proto/src/methods.rs")) as f:
    methods_rs = f.read()
names = re.findall(r'^\s*\w+(?:\(\w+\))? = "(\w+)" ->', methods_rs, re.M)
requests = []
for line in re.findall(r'^\s*///\s*(\{"jsonrpc".*\})\s*$', methods_rs, re.M):
    request = json.loads(line)
    if "method" in request:
        requests.append(line)
        if "params" in request and request["method"] in names:
            pick = names.index(request["method"])
            seed("rpc_params", bytes([pick]) + json.dumps(request["params"]).encode())
for chunk in (1, 7, 255):
    seed("rpc_lines", bytes([chunk]) + ("\n".join(requests) + "\n").encode())
for line in requests:
    seed("rpc_lines", bytes([64]) + line.encode() + b"\n")

# Config and session file.
with open(os.path.join(root, "daemon/config.sample.toml"), "rb") as f:
    seed("config_file", f.read())
seed("config_file", '[reconnect]\ninitial_ms = 50\nmax_ms = 200\n')
session = {"version": 1, "clientId": "NiMIkV4D2p+tniK2jr7gGQ==", "clientToken": "1@abc",
           "serverToken": "1@def", "browserToken": "ghi", "encKey": "AA" * 32, "macKey": "BB" * 32,
           "wid": "4915100000000@s.whatsapp.net", "pushname": "Ada"}
seed("session_file", json.dumps(session))
seed("session_file", json.dumps(session, indent=2))

# Simulator control lines: the literal ones the tests send (those that are plain JSON).
control = set()
for base in ("daemon/sim", "daemon/tests", "tests"):
    for dirpath, _, files in os.walk(os.path.join(root, base)):
        for name in files:
            if name.endswith(".rs"):
                with open(os.path.join(dirpath, name)) as f:
                    control.update(re.findall(r'\{"cmd": ?"[a-z_]+"[^{}]*\}', f.read()))
for line in sorted(control):
    try:
        json.loads(line)
    except ValueError:
        continue
    seed("sim_control", line)

total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
for target in sorted(counts):
    print(f"{target:18} {len(os.listdir(os.path.join(out, target))):4} seeds")
print(f"total {total} bytes in {out}")
PY
