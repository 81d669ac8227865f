"""``python -m benchmarks [--only GROUP[,GROUP]]``: run benchmark groups, save and print."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import operator
import sys
import time

from . import GROUPS, RESULTS_DIR, setup_django

_COMPARE = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


def _verdict(value: float, target: tuple[str, float] | None) -> str:
    if target is None:
        return ""
    op, bound = target
    ok = _COMPARE[op](value, bound)
    return f"{'ok  ' if ok else 'MISS'} (target {op} {bound})"


def run_group(name: str) -> tuple[dict[str, float], dict]:
    module = importlib.import_module(f"benchmarks.{name}")
    results = module.run()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return results, getattr(module, "TARGETS", {})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", help="comma-separated groups (default: every group present)")
    args = parser.parse_args(argv)
    wanted = args.only.split(",") if args.only else list(GROUPS)
    available = [g for g in wanted if importlib.util.find_spec(f"benchmarks.{g}") is not None]
    missing = sorted(set(wanted) - set(available))
    if args.only and missing:
        parser.error(f"unknown benchmark group(s): {', '.join(missing)}")
    setup_django()
    misses = 0
    for group in available:
        started = time.perf_counter()
        results, targets = run_group(group)
        print(f"\n== {group} ({time.perf_counter() - started:.1f} s)")
        width = max((len(k) for k in results), default=10)
        for key, value in results.items():
            verdict = _verdict(value, targets.get(key))
            misses += verdict.startswith("MISS")
            print(f"  {key:<{width}}  {value:>12.4g}  {verdict}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
