#!/usr/bin/env python3
# Two threads against one on the upscale and the 1280x800 resize, alternating, wall ms (and CPU ms).
# usage: python3 scripts/bench-probes/two-threads.py BINARY ROUNDS
import statistics
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "bench"))
import compare
binary, rounds = sys.argv[1], int(sys.argv[2])
for scale in ["5120x3200", "1280x800"]:
    w1, w2, c1, c2 = [], [], [], []
    for r in range(rounds):
        a = compare.project(binary, f"--scale {scale} --filter lanczos3 --stage op", "rgb2560.png", 1, 15)
        b = compare.project(binary, f"--scale {scale} --filter lanczos3 --stage op", "rgb2560.png", 2, 15)
        w1.append(a["median_ms"]); w2.append(b["median_ms"]); c1.append(a["cpu_ms"]); c2.append(b["cpu_ms"])
    ratios = [x / y for x, y in zip(w1, w2)]
    print(f"{scale}: wall 1t {['%.2f' % x for x in w1]} 2t {['%.2f' % x for x in w2]} speed-up {['%.2f' % x for x in ratios]} median {statistics.median(ratios):.2f}; cpu 1t {['%.2f' % x for x in c1]} 2t {['%.2f' % x for x in c2]}")
