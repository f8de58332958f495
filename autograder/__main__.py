"""Command line: ``python -m autograder {release,grade,report,references,gradescope} ...``."""
from __future__ import annotations

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def use_instructor_package():
    """Import ``cs231n_lec7`` from next to this package, never from the working directory.

    ``python -m`` puts the working directory first on ``sys.path``; run from inside
    a student's submission, the judge would otherwise load the student's package as
    the reference solution and check library.
    """
    if os.path.isdir(os.path.join(ROOT, "cs231n_lec7")):
        cwd = os.getcwd()
        sys.path[:] = [ROOT] + [p for p in sys.path if os.path.abspath(p or cwd) != ROOT
                                and not os.path.isdir(os.path.join(os.path.abspath(p or cwd), "cs231n_lec7"))]


def main(argv=None):
    use_instructor_package()
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="write the student release (solutions replaced by stubs)")
    p.add_argument("out", help="folder to create (must not exist, or be empty)")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.add_argument("--no-notebooks", action="store_true", help="skip nbgrader (package and checks only)")

    p = sub.add_parser("grade", help="grade submissions (folders or .zip files)")
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION")
    p.add_argument("--out", required=True, help="folder for results.json, feedback.md and grades.csv")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel (default 1)")
    p.add_argument("--seed", type=int, default=None, help="override the grade seed of config.toml")
    p.add_argument("--config", default=None, help="another config.toml")
    p.add_argument("--sandbox", choices=("auto", "bwrap", "subprocess"), default="auto")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--report", action="store_true", help="also write the class report (report.html, report.json)")

    p = sub.add_parser("report", help="class report of a graded batch: report.html and report.json")
    p.add_argument("grades_dir", metavar="GRADES_DIR", help="the --out folder of grade")
    p.add_argument("--config", default=None, help="another config.toml (notebook sections)")

    p = sub.add_parser("references", help="regenerate stored expected values and reference trajectories")
    p.add_argument("--check", action="store_true", help="only verify that stored values equal live ones")

    p = sub.add_parser("gradescope", help="build a Gradescope autograder zip")
    p.add_argument("out", help="path of the zip to write")

    args = parser.parse_args(argv)
    if args.command == "release":
        from .release import ReleaseError, make_release

        try:
            make_release(args.out, force=args.force, notebooks=not args.no_notebooks)
        except ReleaseError as err:
            print(f"release refused: {err}", file=sys.stderr)
            return 1
        print(f"student release written to {args.out}")
        return 0
    if args.command == "grade":
        from .grade import grade_batch, load_config

        missing = [s for s in args.submissions if not os.path.exists(s)]
        for s in missing:
            print(f"warning: {s} does not exist; it is recorded as not graded", file=sys.stderr)
        config = load_config(args.config)
        rows = grade_batch(args.submissions, args.out, jobs=max(1, args.jobs), config=config, seed=args.seed,
                           mode=args.sandbox, progress=not args.no_progress)
        graded = sum(1 for r in rows if not r["problem"])
        print(f"graded {graded} of {len(rows)} submissions; grades in {os.path.join(args.out, 'grades.csv')}")
        if args.report:
            from .classreport import write_report

            try:
                print(f"class report: {write_report(args.out, args.config)[0]}")
            except Exception as err:  # the grades are written: a failed report must not hide that
                print(f"warning: the class report failed ({type(err).__name__}: {err})", file=sys.stderr)
        else:
            import shlex

            print(f"class report: python -m autograder report {shlex.quote(args.out)}")
        return 0
    if args.command == "report":
        from .classreport import write_report

        try:
            html_path, json_path = write_report(args.grades_dir, args.config)
        except FileNotFoundError as err:
            print(f"report refused: {err}", file=sys.stderr)
            return 1
        print(f"class report written to {html_path} (and {json_path})")
        return 0
    if args.command == "references":
        from . import references

        if args.check:
            problems = references.verify()
            for line in problems:
                print(line)
            print("stored references equal live recomputation" if not problems else
                  f"{len(problems)} stored values differ: run `python -m autograder references`")
            return 1 if problems else 0
        references.write()
        return 0
    if args.command == "gradescope":
        from .gradescope import build_zip

        build_zip(args.out)
        print(f"Gradescope autograder written to {args.out}")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
