#!/usr/bin/env python3
"""Re-split the shipped labelled set into train and held-out files.

Reads every line of octoroute/evalsets/{train,heldout}.jsonl (or the files
given), checks each with the eval's own reader, and writes a seeded shuffle,
stratified by category, holding out a tenth of each category. Re-running it
on unchanged lines gives the same split, so editing a label never moves lines
between the splits; adding lines to a category may move that category's
lines, and no other's.

The held-out split is never looked at while tuning the router.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from octoroute.evaluate import read_cases, stratified_split

HERE = Path(__file__).resolve().parent.parent / "octoroute" / "evalsets"
SEED = 15  # issue 15
FRACTION = 0.1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path,
                        default=[HERE / "train.jsonl", HERE / "heldout.jsonl"])
    parser.add_argument("--out", type=Path, default=HERE, help="folder for train.jsonl and heldout.jsonl")
    args = parser.parse_args(argv)
    raw: dict[str, str] = {}
    order: list[str] = []
    for path in args.files:
        if not path.exists():
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for case, line in zip(read_cases(lines, str(path)), (x for x in lines if x.strip()), strict=True):
            if case.id in raw:
                print(f"{path}: id {case.id!r} appears twice", file=sys.stderr)
                return 1
            raw[case.id] = line
            order.append(case.id)
    cases = read_cases([raw[i] for i in order], "<all>")
    train, held = stratified_split(cases, fraction=FRACTION, seed=SEED)
    rank = {cid: n for n, cid in enumerate(sorted(order))}
    for name, part in (("train.jsonl", train), ("heldout.jsonl", held)):
        ids = sorted((c.id for c in part), key=rank.__getitem__)
        text = "".join(json.dumps(json.loads(raw[i]), ensure_ascii=False) + "\n" for i in ids)
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"{name}: {len(ids)} lines")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
