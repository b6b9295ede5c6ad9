#!/usr/bin/env python3
# T3's floor: end to end (150x150 cover thumbnail of the 24 MP photo) against DCT-1/8 decode + SHA-256 of the
# source, alternating, CPU ms. usage: python3 scripts/bench-probes/t3.py BINARY ROUNDS
import statistics
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "bench"))
import compare
binary, rounds = sys.argv[1], int(sys.argv[2])
e, d, h = [], [], []
for r in range(rounds):
    e.append(compare.project(binary, "--thumbnails 150x150 --stage end-to-end", "photo24mp.jpg", 1, 15)["cpu_ms"])
    d.append(compare.project(binary, "--stage decode --shrink 8", "photo24mp.jpg", 1, 15)["cpu_ms"])
    h.append(compare.project(binary, "--stage hash", "photo24mp.jpg", 1, 15)["cpu_ms"])
ratios = [a / (b + c) for a, b, c in zip(e, d, h)]
print("end-to-end", ["%.2f" % x for x in e]); print("decode 1/8", ["%.2f" % x for x in d]); print("sha256    ", ["%.2f" % x for x in h])
print("end-to-end / (decode + hash) per round", ["%.3f" % x for x in ratios], "median %.3f" % statistics.median(ratios))
print("end-to-end / decode per round", ["%.3f" % (a / b) for a, b in zip(e, d)])
