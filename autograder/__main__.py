"""Command line of the cs231n-lec7 grader.

  python -m autograder release OUT               the student release (stubs, no solutions)
  python -m autograder grade SUB... --out DIR    grade submissions (folders or .zip) in the sandbox
  python -m autograder report GRADES_DIR         class report of a graded batch (report.html, report.json)
  python -m autograder references                regenerate the stored reference values
  python -m autograder gradescope ZIP            the same grader as a Gradescope autograder
  python -m autograder pack [FOLDER]             zip a student's cs231n_lec7/ and notebooks/ only
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

EPILOG = """\
nbgrader (notebooks and short answers):
  python -m autograder.nbgrader_course build COURSE_DIR          lay out the course
  python -m autograder.nbgrader_course grade-packages COURSE_DIR  run after "nbgrader autograde lec7":
      grades each submitted package in the sandbox and writes those scores into the gradebook
Options of one command: python -m autograder COMMAND --help
"""


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


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def remove_stale_results(out_dir, names):
    """Remove ``out_dir/<name>/`` folders of an earlier batch (they hold results.json) not graded now.

    ``grades.csv`` and the class report describe the latest batch only; a stale
    folder beside them would be read as one of its submissions. Returns the names removed.
    """
    if not os.path.isdir(out_dir):
        return []
    stale = []
    for entry in sorted(os.listdir(out_dir)):
        folder = os.path.join(out_dir, entry)
        if entry in names or os.path.islink(folder) or not os.path.isdir(folder):
            continue
        if os.path.isfile(os.path.join(folder, "results.json")):
            shutil.rmtree(folder)
            stale.append(entry)
    return stale


def sandbox_warning(chosen):
    """The line printed before grading without namespace isolation, or None."""
    if chosen == "subprocess":
        return ("warning: --sandbox subprocess was chosen: workers run without namespace isolation "
                "(they can read files the grading user can read; see docs/grading.md)")
    if chosen == "auto":
        from .sandbox import bwrap_available

        if not bwrap_available():
            return ("warning: bubblewrap is not available here: workers run without namespace isolation "
                    "(install bubblewrap; see docs/grading.md)")
    return None


def main(argv=None):
    use_instructor_package()
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("release", help="write the student release (solutions replaced by stubs)")
    p.add_argument("out", help="folder to create (must not exist, or be empty)")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.add_argument("--no-notebooks", action="store_true", help="skip nbgrader (package and checks only)")

    p = sub.add_parser("grade", help="grade submissions (folders or .zip files)",
                       description="Grade submissions in the sandbox; write DIR/<name>/results.json, "
                                   "DIR/<name>/feedback.md and DIR/grades.csv.")
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                   help="a folder or .zip holding cs231n_lec7/ at its top or one folder down")
    p.add_argument("--out", required=True, help="folder for results.json, feedback.md and grades.csv "
                                                "(result folders of an earlier batch in it are removed)")
    p.add_argument("--jobs", type=positive_int, default=1, help="submissions graded in parallel (default 1)")
    p.add_argument("--seed", type=int, default=None, help="override the grade seed of config.toml")
    p.add_argument("--config", default=None, help="another config.toml")
    p.add_argument("--sandbox", choices=("auto", "bwrap", "subprocess"), default="auto",
                   help="auto: bubblewrap where it works, else a plain subprocess (default); "
                        "subprocess: no namespace isolation, for machines without bubblewrap")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--report", action="store_true", help="also write the class report (report.html, report.json)")

    p = sub.add_parser("report", help="class report of a graded batch: report.html and report.json")
    p.add_argument("grades_dir", metavar="GRADES_DIR", help="the --out folder of grade")
    p.add_argument("--config", default=None, help="another config.toml (notebook sections)")

    p = sub.add_parser("references", help="regenerate stored expected values and reference trajectories")
    p.add_argument("--check", action="store_true", help="only verify that stored values equal live ones")

    p = sub.add_parser("gradescope", help="build a Gradescope autograder zip")
    p.add_argument("out", help="path of the zip to write")

    p = sub.add_parser("pack", help="zip a student's cs231n_lec7/ and notebooks/*.ipynb for submission")
    p.add_argument("folder", nargs="?", default=".", help="the folder holding cs231n_lec7/ (default: .)")
    p.add_argument("--out", default=None, help="the zip to write (default: FOLDER/submission.zip)")

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
        from .grade import grade_batch, load_config, submission_name

        missing = [s for s in args.submissions if not os.path.exists(s)]
        if missing:
            sub.choices["grade"].error(f"no such submission: {', '.join(missing)} (nothing was graded)")
        config = load_config(args.config)
        stale = remove_stale_results(args.out, {submission_name(s) for s in args.submissions})
        if stale:
            print(f"removed {len(stale)} result folder(s) of an earlier batch from {args.out}: "
                  f"{', '.join(stale[:10])}{' ...' if len(stale) > 10 else ''}", file=sys.stderr)
        warning = sandbox_warning(args.sandbox)
        if warning:
            print(warning, file=sys.stderr)
        rows = grade_batch(args.submissions, args.out, jobs=args.jobs, config=config, seed=args.seed,
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
    if args.command == "pack":
        from .pack import main as pack_main

        return pack_main([args.folder] + (["--out", args.out] if args.out else []))
    return 2


if __name__ == "__main__":
    sys.exit(main())
