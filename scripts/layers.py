#!/usr/bin/python3
"""The house rules of src/, checked (make layers, part of make unit):

1. No circle between files: an edge A -> B when A's .c or .h includes B.h,
   or when A.o uses a symbol that B.o defines (nm); A and B are modules
   (src/smtp/conn.c and src/smtp/conn.h are one). Every strongly connected
   group of more than one module is a circle.
2. No file in src/ over 600 lines.
3. Every header opens with its contract: a comment before the guard.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SRC = os.path.join(ROOT, "src")
BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
MAX_LINES = 600


def modules():
    mods = {}
    for d, _, files in os.walk(SRC):
        for f in files:
            if f.endswith((".c", ".h")):
                rel = os.path.relpath(os.path.join(d, f), SRC)
                mods.setdefault(rel[:-2], []).append(rel)
    return mods


def include_edges(mods):
    edges = set()
    for m, files in mods.items():
        for rel in files:
            with open(os.path.join(SRC, rel)) as fh:
                for inc in re.findall(r'^#include "([^"]+)\.h"', fh.read(), re.M):
                    if inc != m and inc in mods:
                        edges.add((m, inc, "include"))
    return edges


def symbols(obj):
    out = subprocess.run(["nm", "--defined-only", "-g", obj], capture_output=True, text=True)
    defined = {line.split()[-1] for line in out.stdout.splitlines() if line.strip()}
    out = subprocess.run(["nm", "-u", obj], capture_output=True, text=True)
    used = {line.split()[-1] for line in out.stdout.splitlines() if line.strip()}
    return defined, used


def call_edges(mods):
    defs, uses = {}, {}
    for m, files in mods.items():
        if m + ".c" not in files:
            continue
        obj = os.path.join(BUILD, "src", m + ".o")
        if not os.path.exists(obj):
            sys.exit(f"layers: {obj} is missing; build first")
        d, u = symbols(obj)
        uses[m] = u
        for sym in d:
            defs[sym] = m
    return {(m, defs[s], "call") for m, u in uses.items() for s in u if s in defs and defs[s] != m}


def circles(nodes, edges):
    """Tarjan's strongly connected components of more than one node."""
    succ = {n: sorted({b for a, b, _ in edges if a == n}) for n in nodes}
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for n in sorted(nodes):
        if n not in index:
            visit(n)
    return out


def main():
    mods = modules()
    edges = include_edges(mods) | call_edges(mods)
    problems = []
    for comp in circles(mods, edges):
        inside = sorted(f"{a} -> {b} ({k})" for a, b, k in edges if a in comp and b in comp)
        problems.append("circle: " + ", ".join(comp) + "\n    " + "\n    ".join(inside))
    for m, files in sorted(mods.items()):
        for rel in files:
            with open(os.path.join(SRC, rel)) as fh:
                text = fh.read()
            n = text.count("\n")
            if n > MAX_LINES:
                problems.append(f"{rel}: {n} lines (at most {MAX_LINES})")
            if rel.endswith(".h") and not re.match(r"\s*/\*.*?\*/\s*#ifndef", text, re.S):
                problems.append(f"{rel}: no contract comment before the include guard")
    for p in problems:
        print("layers:", p)
    print(f"layers: {len(mods)} modules, {len(edges)} edges, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
