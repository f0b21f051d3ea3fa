"""Writes golden msgpack bytes of every Locust 2.12.1 master/worker message.

Run once with Debian's system python3 (python3-locust 2.12.1, python3-msgpack):

    /usr/bin/python3 gen_golden.py golden

Each file is msgpack.dumps((type, data, node_id)), exactly what
locust/rpc/protocol.py sends. The stats payloads are built by Locust's own
RequestStats (locust/stats.py) under a fake clock, with the listener code of
setup_distributed_stats_event_listeners and WorkerRunner.__init__, so the
Go side must reproduce them from the same requests.
"""
import os
import sys
import time

import msgpack

import locust.stats as ls

OUT = sys.argv[1]
NODE = "myhost_0123456789abcdef0123456789abcdef"
T0 = 1700000000_000000000  # ns


def dump(name, typ, data, node=NODE):
    with open(os.path.join(OUT, name + ".msgpack"), "wb") as f:
        f.write(msgpack.dumps((typ, data, node)))


clock = [T0 / 1e9]
time.time = lambda: clock[0]


def at(ns):
    clock[0] = ns / 1e9


class HTTPError(Exception):
    pass


def report(s, classes):
    # on_report_to_master (stats.py), then WorkerRunner's listener
    data = {}
    data["stats"] = s.serialize_stats()
    data["stats_total"] = s.total.get_stripped_report()
    data["errors"] = s.serialize_errors()
    s.errors = {}
    data["user_classes_count"] = classes
    data["user_count"] = sum(classes.values())
    return data


# Worker → master.
dump("client_ready", "client_ready", "2.12.1")
dump("client_ready_debian", "client_ready", "")
dump("client_ready_boomer", "client_ready", -1)
dump("heartbeat", "heartbeat", {"state": "running", "current_cpu_usage": 12.5, "current_memory_usage": 52428800})
dump("heartbeat_ready", "heartbeat", {"state": "ready", "current_cpu_usage": 0.0, "current_memory_usage": 7340032})
dump("spawning", "spawning", None)
dump("spawning_complete", "spawning_complete", {"user_classes_count": {"ApiAsyncUser": 0, "ApiSyncUser": 50}, "user_count": 50})
dump("client_stopped", "client_stopped", None)
dump("quit_worker", "quit", None)
dump("exception", "exception", {"msg": "Unknown user class 'NoSuchUser' (loadgen knows ApiAsyncUser, ApiSyncUser)",
                                "traceback": "  loadgen worker: unknown user class 'NoSuchUser'\n"})

# stats: an idle worker's first report (total method None, nothing recorded).
s = ls.RequestStats(use_response_times_cache=False)
at(T0 + 3_000_000_000)
dump("stats_idle", "stats", report(s, {}))

# stats: a test's report with 4 requests on 2 entries, one failure.
s = ls.RequestStats(use_response_times_cache=False)
at(T0 + 500_000_000)
s.clear_all()
sync = "/api/v1/ml/sync/predict"
at(T0 + 1_000_000_000 + 12_500_000)
s.log_request("POST", sync, 12.5, 20)
at(T0 + 1_500_000_000 + 145_000_000)
s.log_request("POST", sync, 145.0, 20)
at(T0 + 2_200_000_000 + 99_600_000)
s.log_request("POST", sync, 99600000 / 1e6, 0)
s.log_error("POST", sync, HTTPError("500 Server Error: INTERNAL SERVER ERROR for url: " + sync))
at(T0 + 2_500_000_000 + 1_234_500_000)
s.log_request("GET", "/api/v1/healthcheck", 1234.5, 15)
at(T0 + 4_000_000_000)
dump("stats_full", "stats", report(s, {"ApiAsyncUser": 0, "ApiSyncUser": 50}))
# the next report of the same worker: entries reset, nothing new
at(T0 + 7_000_000_000)
dump("stats_after", "stats", report(s, {"ApiAsyncUser": 0, "ApiSyncUser": 50}))

# Master → worker.
dump("ack", "ack", {"index": 1})
dump("spawn", "spawn", {
    "timestamp": 1700000000.123456,
    "user_classes_count": {"ApiSyncUser": 50},
    "host": "http://127.0.0.1:8001",
    "stop_timeout": None,
    "parsed_options": {"headless": True, "tags": ["predict"], "exclude_tags": None, "num_users": 100,
                       "spawn_rate": 100.0, "run_time": 20, "expect_workers": 2},
})
dump("stop", "stop", None)
dump("quit_master", "quit", None)
dump("reconnect", "reconnect", None)
