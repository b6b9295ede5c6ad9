#!/usr/bin/env python3
# Alternates variants of `asset-worker bench` with compare.py's peer for one task, round by round,
# using compare.py's own functions (same iterations, same statistic: median CPU ms).
# usage: python3 scripts/bench-probes/variants.py BINARY TASK IMAGE ROUNDS LABEL=ARGS [LABEL=ARGS ...]
# e.g.   python3 scripts/bench-probes/variants.py .build/release/asset-worker "T5 rot180 24MP" photo24mp.jpg 3 \
#            before="--rotate 180 --stage op --keep-source" after="--rotate 180 --stage op"
import json, statistics
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "bench"))
import compare
binary, task, image, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
variants = [v for v in sys.argv[5:]]   # each: label=args
tool = next(t for (n, t, a, i) in compare.TASKS if n == task)
res = {v.split("=",1)[0]: [] for v in variants}; peer = []
for r in range(rounds):
    for v in variants:
        label, args = v.split("=", 1)
        res[label].append(compare.project(binary, args, image, 1, 15)["cpu_ms"])
    peer.append(compare.peer(tool, task, 1)["cpu_ms"])
print(json.dumps(dict(task=task, peer=tool, peer_ms=peer, ours=res)))
for label, xs in res.items():
    ratios = [p / x for p, x in zip(peer, xs)]
    print(f"{label:12s} ours {['%.2f' % x for x in xs]}  peer {['%.2f' % x for x in peer]}  ratio per round {['%.2f' % x for x in ratios]}  median {statistics.median(ratios):.2f}")
