"""``glassnet explain [OP]`` and ``glassnet gradcheck [OP ...]``."""

from __future__ import annotations

import argparse
from typing import Any

from glassnet.cli.common import UsageError, did_you_mean


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "explain",
        help="show an op's formula, derivative and forward/backward source",
        description="Print how an op computes its output and its gradient: the formula and "
        "derivative from its docstring, and the source of its forward and backward. "
        "With no OP, list the ops.",
    )
    p.add_argument("op", nargs="?", help="e.g. relu, softmax, cross_entropy, matmul")
    p.set_defaults(run=run_explain)
    g = sub.add_parser(
        "gradcheck",
        help="check every op's gradient against finite differences",
        description="Compare each op's backward with central differences in float64 on "
        "random inputs; print op, max abs error, max rel error and pass/fail. Exit status 1 "
        "if any op fails.",
    )
    g.add_argument("ops", nargs="*", metavar="OP", help="ops to check (default: all)")
    g.add_argument("--atol", type=float, default=1e-5, help="largest absolute error that passes")
    g.set_defaults(run=run_gradcheck)


def run_explain(args: argparse.Namespace) -> int:
    from glassnet.inspect.explain import ALIASES, OPS, explain, list_ops, resolve

    if args.op is None:
        print(list_ops())
        return 0
    if resolve(args.op) is None:
        known = [*OPS, *ALIASES]
        raise UsageError(
            f"unknown op {args.op!r}{did_you_mean(args.op.lower(), known)}; run 'glassnet "
            "explain' for the list"
        )
    print(explain(args.op))
    return 0


def run_gradcheck(args: argparse.Namespace) -> int:
    from glassnet.inspect.checks import CHECKS, run_check

    names = args.ops or sorted(CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise UsageError(
            f"unknown op {unknown[0]!r}{did_you_mean(unknown[0], CHECKS)}; choose from "
            f"{', '.join(sorted(CHECKS))}"
        )
    width = max(len(n) for n in names)
    print(f"{'op':<{width}}  {'max abs error':>13}  {'max rel error':>13}  result")
    failed = 0
    for name in names:
        worst_abs, worst_rel = run_check(name)
        ok = worst_abs <= args.atol
        failed += not ok
        print(f"{name:<{width}}  {worst_abs:13.2e}  {worst_rel:13.2e}  {'pass' if ok else 'FAIL'}")
    print(f"{len(names) - failed} of {len(names)} ops pass")
    return 1 if failed else 0
