"""Captures the first spawn message a real Locust 2.12.1 master sends.

Start Debian's master on a free port P, then run this fake worker:

    locust -f loadgen/internal/ratio/testdata/locust/benchmark.py --master \
        --master-bind-host 127.0.0.1 --master-bind-port P --headless \
        --expect-workers 1 -u 3 -r 3 -t 2s --host http://127.0.0.1:9 ApiSyncUser &
    /usr/bin/python3 capture_spawn.py P golden/spawn_captured.msgpack

It writes the spawn message's raw bytes as received.
"""
import sys
import time

import msgpack
import zmq

port, out = int(sys.argv[1]), sys.argv[2]
node = "capture_" + "0" * 32
s = zmq.Context().socket(zmq.DEALER)
s.setsockopt(zmq.IDENTITY, node.encode())
s.connect("tcp://127.0.0.1:%d" % port)
s.send(msgpack.dumps(("client_ready", "2.12.1", node)))
deadline = time.time() + 30
while time.time() < deadline:
    s.send(msgpack.dumps(("heartbeat", {"state": "ready", "current_cpu_usage": 0.0}, node)))
    if s.poll(1000):
        raw = s.recv()
        msg = msgpack.loads(raw, raw=False, strict_map_key=False)
        if msg[0] == "spawn":
            open(out, "wb").write(raw)
            s.send(msgpack.dumps(("quit", None, node)))
            time.sleep(0.2)
            break
