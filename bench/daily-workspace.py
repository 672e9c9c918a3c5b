#!/usr/bin/env python3
"""The workspace of the daily-backup bench (bench/daily.mjs), deterministic.

usage: daily-workspace.py DIR DAY SCALE
  DAY 0 makes the workspace (removing DIR first): 1,500 text files in 30 folders, 50 binary
  assets, one 64 MiB file (times SCALE). DAY n >= 1 applies day n's changes: ~1 % of the text
  files edited, 20 added, 10 deleted, one folder renamed, 1 MiB of the big file rewritten in place.
"""
import os, random, shutil, sys

d, day, scale = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
r = random.Random(1000 + day)
wr = random.Random(7)
words = ["w%x" % wr.getrandbits(20) for _ in range(4000)]


def text(n):
    return "\n".join(" ".join(r.choice(words) for _ in range(12)) for _ in range(n)) + "\n"


def text_files():
    out = []
    for root, _, names in os.walk(os.path.join(d, "src")):
        out += [os.path.join(root, n) for n in names]
    return sorted(out)


if day == 0:
    shutil.rmtree(d, ignore_errors=True)
    for i in range(int(1500 * scale)):
        folder = os.path.join(d, "src", "mod%02d" % (i % 30), "part%d" % (i % 3))
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "f%05d.txt" % i), "w") as f:
            f.write(text(r.randint(5, 90)))
    os.makedirs(os.path.join(d, "assets"))
    for i in range(int(50 * scale) or 1):
        with open(os.path.join(d, "assets", "a%02d.bin" % i), "wb") as f:
            f.write(r.randbytes(r.randint(100_000, 300_000)))
    os.makedirs(os.path.join(d, "data"))
    with open(os.path.join(d, "data", "big.db"), "wb") as f:
        for _ in range(max(2, int(64 * scale))):
            f.write(r.randbytes(1 << 20))
    sys.exit(0)

files = text_files()
for p in r.sample(files, max(1, len(files) // 100)):
    with open(p, "a") as f:
        f.write(text(r.randint(1, 5)))
for p in r.sample(files, min(10, len(files) // 2)):
    os.remove(p)
folders = sorted({os.path.dirname(p) for p in text_files()})
for i in range(20):
    with open(os.path.join(r.choice(folders), "day%02d-%02d.txt" % (day, i)), "w") as f:
        f.write(text(r.randint(5, 90)))
src = r.choice(sorted(os.listdir(os.path.join(d, "src"))))
os.rename(os.path.join(d, "src", src), os.path.join(d, "src", "%s-r%d" % (src.split("-r")[0], day)))
big = os.path.join(d, "data", "big.db")
with open(big, "r+b") as f:
    size = os.path.getsize(big)
    f.seek(r.randrange(0, size - (1 << 20)))
    f.write(r.randbytes(1 << 20))
