#!/usr/bin/env python3
"""Plot `rolemap bench --json` as an SVG: evaluation time against the number
of mappings, log-log, for the program and the reference interpreter.

    cargo run --release -- bench --json | python3 scripts/plot.py > docs/bench.svg

Only the standard library is used.
"""
import json
import math
import sys

rows = json.load(sys.stdin)
series = [
    ("program (eval_ns)", "eval_ns", "#1f77b4"),
    ("program, from a parsed user (end_to_end_ns)", "end_to_end_ns", "#2ca02c"),
    ("reference interpreter (reference_ns)", "reference_ns", "#d62728"),
]
W, H, L, R, T, B = 720, 440, 80, 20, 30, 60
xs = [r["mappings"] for r in rows]
ys = [r[key] for r in rows for _, key, _ in series]
x0, x1 = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
x1 = max(x1, x0 + 1)
y1 = max(y1, y0 + 1)


def px(x):
    return L + (math.log10(x) - x0) / (x1 - x0) * (W - L - R)


def py(y):
    return H - B - (math.log10(y) - y0) / (y1 - y0) * (H - T - B)


def ns(v):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if v >= scale:
            return f"{v / scale:g} {unit}"
    return f"{v:g} ns"


out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>']
for e in range(x0, x1 + 1):
    x = px(10 ** e)
    out.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{H - B}" stroke="#ddd"/>')
    out.append(f'<text x="{x:.1f}" y="{H - B + 18}" text-anchor="middle">{10 ** e:,}</text>')
for e in range(y0, y1 + 1):
    y = py(10 ** e)
    out.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" stroke="#ddd"/>')
    out.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{ns(10 ** e)}</text>')
out.append(f'<text x="{(L + W - R) / 2}" y="{H - 15}" text-anchor="middle">role mappings (log scale)</text>')
out.append(f'<text x="16" y="{(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 {(T + H - B) / 2})">'
           'time per user (log scale)</text>')
for i, (label, key, color) in enumerate(series):
    points = " ".join(f"{px(r['mappings']):.1f},{py(r[key]):.1f}" for r in rows)
    out.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
    for r in rows:
        out.append(f'<circle cx="{px(r["mappings"]):.1f}" cy="{py(r[key]):.1f}" r="3" fill="{color}"/>')
    out.append(f'<rect x="{L + 10}" y="{T + 6 + 18 * i}" width="12" height="3" fill="{color}"/>')
    out.append(f'<text x="{L + 28}" y="{T + 12 + 18 * i}">{label}</text>')
out.append("</svg>")
print("\n".join(out))
