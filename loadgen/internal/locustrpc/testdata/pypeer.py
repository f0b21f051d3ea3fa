"""A pyzmq peer for locustrpc's interop tests (Debian's python3-zmq, libzmq 4.3).

router: binds a ROUTER on 127.0.0.1, prints its port, and answers each message
        with ("ack", {"index": n}, node_id) as Locust's master does, until it
        receives "quit".
dealer PORT ID: connects a DEALER with identity ID, sends client_ready and
        prints the type and data of the reply.
"""
import sys

import msgpack
import zmq

ctx = zmq.Context()
if sys.argv[1] == "router":
    s = ctx.socket(zmq.ROUTER)
    port = s.bind_to_random_port("tcp://127.0.0.1")
    print(port, flush=True)
    n = 0
    while True:
        ident, payload = s.recv_multipart()
        msg = msgpack.loads(payload, raw=False, strict_map_key=False)
        if msg[0] == "quit":
            break
        s.send_multipart([ident, msgpack.dumps(("ack", {"index": n, "got": msg[0], "id": ident.decode()}, msg[2]))])
        n += 1
else:
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.IDENTITY, sys.argv[3].encode())
    s.connect("tcp://127.0.0.1:" + sys.argv[2])
    s.send(msgpack.dumps(("client_ready", "2.12.1", sys.argv[3])))
    if not s.poll(10000):
        sys.exit("no reply")
    msg = msgpack.loads(s.recv(), raw=False, strict_map_key=False)
    print(msg[0], msg[1], flush=True)
s.close(linger=1000)
