"""Records Locust 2.12.1's UsersDispatcher (locust/dispatch.py) on a few scenarios.

Run with Debian's system python3 (python3-locust 2.12.1):

    /usr/bin/python3 gen_golden.py > dispatch.json

Each scenario is a list of steps; a dispatch step is what next() returned
(worker id -> class -> users), "event" steps record what the master did
between iterations (new_dispatch, add_worker, remove_worker, and "end" where next() raised
StopIteration).
"""
import json

import locust.dispatch as ld
from locust import User, task
from locust.runners import WorkerNode

ld.gevent.sleep = lambda *a, **k: None  # no waiting between iterations


def cls(name, weight):
    return type(name, (User,), {"weight": weight, "abstract": False, "t": task(lambda self: None), "__module__": __name__})


def run(d, out):
    for dist in d:
        out.append({"dispatch": dist})
    out.append({"event": "end"})  # next() raised StopIteration


scenarios = {}

# The acceptance test's split: 2 workers on one host, 100 users at 100/s.
w = [WorkerNode("vm_b"), WorkerNode("vm_a")]
d = ld.UsersDispatcher(w, [cls("ApiSyncUser", 1)])
out = [{"event": "new_dispatch", "users": 100, "rate": 100}]
d.new_dispatch(100, 100)
run(d, out)
scenarios["two_workers_one_host"] = {"workers": ["vm_b", "vm_a"], "classes": [["ApiSyncUser", 1]], "steps": out}

# Three workers on two hosts, weighted classes, ramp up at 3/s then down at 2/s.
w = [WorkerNode("m1_a"), WorkerNode("m1_b"), WorkerNode("m2_c")]
d = ld.UsersDispatcher(w, [cls("B", 3), cls("A", 1)])
out = []
for users, rate in [(10, 3), (4, 2), (7, 7.5)]:
    out.append({"event": "new_dispatch", "users": users, "rate": rate})
    d.new_dispatch(users, rate)
    run(d, out)
scenarios["ramps_two_hosts"] = {"workers": ["m1_a", "m1_b", "m2_c"], "classes": [["B", 3], ["A", 1]], "steps": out}

# A worker joins mid-ramp, then one leaves after the ramp (the master then
# dispatches again to the same target).
w = [WorkerNode("h1_x"), WorkerNode("h2_y")]
d = ld.UsersDispatcher(w, [cls("ApiAsyncUser", 1), cls("ApiSyncUser", 2), cls("ApiUser", 1)])
out = [{"event": "new_dispatch", "users": 12, "rate": 4}]
d.new_dispatch(12, 4)
out.append({"dispatch": next(d)})
out.append({"dispatch": next(d)})
out.append({"event": "add_worker", "id": "h1_w"})
d.add_worker(WorkerNode("h1_w"))
run(d, out)
out.append({"event": "remove_worker", "id": "h2_y"})
d.remove_worker(WorkerNode("h2_y"))
out.append({"event": "new_dispatch", "users": 12, "rate": 4})
d.new_dispatch(12, 4)
run(d, out)
scenarios["join_and_leave"] = {"workers": ["h1_x", "h2_y"], "classes": [["ApiAsyncUser", 1], ["ApiSyncUser", 2], ["ApiUser", 1]], "steps": out}

print(json.dumps(scenarios, indent=1, sort_keys=True))
