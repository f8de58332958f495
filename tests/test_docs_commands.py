"""The documented commands, run as written: README.md, the release's README, notebooks/README.md.

Commands are parsed from the files (fenced ``bash`` and ``python`` blocks, and the instructor table of
README.md), never retyped here, and run with ``bash -c`` in a fresh copy of the project (the files a
clone has) with an environment cleaned of this test run's virtualenv, so ``python3`` is the machine's:

1. README's main command in the copy: makes ``.venv`` (one per test session, pip's cache reused),
   installs, grades ``examples/submissions/*``.
2. Student: the instructor table's ``release OUT``; in the release, its README's blocks as written:
   set up (a second, student ``.venv``: it must bring pytest itself), the check on the stubs (fails with
   "not implemented yet", as the README says), then -- the student's work done, i.e. the solution
   copied in -- JupyterLab starts and serves the notebooks, the checks pass, notebooks/README.md's
   terminal and notebook checks pass, and ``pack.py`` writes the zip. README's student block must be
   the same commands.
3. Instructor, in the copy, the table's commands with the virtualenv's ``python``: grade the student's
   zip beside the examples, regenerate the references (then ``--check``), the Gradescope zip, the
   nbgrader course (build, ``nbgrader generate_assignment``; ``grade-packages`` before any autograde
   is refused with a clear message), ``pack``.
4. Self-study, in the copy: JupyterLab, and the walkthrough of every notebook with offline MathJax.

Not run here: README's test command (it runs this file; ``.ci/run`` runs it). Each step's time is
printed at the end. Placeholders of the table (OUT, DIR, COURSE_DIR, FOLDER) become temporary paths.
Servers get a config in a temporary ``JUPYTER_CONFIG_DIR`` (a free port, no browser, root allowed
when the tests run as root); nothing is written outside the test's temporary folders except pip's cache.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
import zipfile

import pytest

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
STUDENT_README = os.path.join(ROOT, "autograder", "STUDENT_README.md")
NOTEBOOKS_README = os.path.join(ROOT, "notebooks", "README.md")
TIMES: dict[str, float] = {}
NOT_RUN = {".venv/bin/python -m pytest -q": "README's test command: it runs this file (.ci/run runs it)"}
INSTALL_TIMEOUT = 1200


# ------------------------------------------------------------------ parsing
def blocks(text, language="bash"):
    """The fenced ``language`` blocks of a Markdown text, each a list of command lines (comments dropped)."""
    found = []
    for body in re.findall(rf"^[ \t]*```{language}[ \t]*\n(.*?)^[ \t]*```", text, flags=re.M | re.S):
        if language == "bash":
            lines = [re.sub(r"\s+#.*$", "", line).strip() for line in body.splitlines()]
            found.append([line for line in lines if line and not line.startswith("#")])
        else:
            found.append([textwrap.dedent(body)])
    return found


def section(text, title):
    """The Markdown section that starts with ``## title`` (up to the next ``## ``)."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert match, f"no section '## {title}'"
    return match.group(1)


def table_commands(text):
    """{task: command} of a Markdown table whose second column is one inline code span."""
    rows = re.findall(r"^\|(.+?)\|\s*`([^`]+)`\s*\|\s*$", text, flags=re.M)
    return {task.strip(): command for task, command in rows}


def read(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def test_parsing_finds_commands_and_comments_go():
    text = "x\n```bash\nfoo --a 1   # says hi\n\n# only a comment\nbar -k \"a or b\"\n```\n| t | `python -m x OUT` |\n"
    assert blocks(text) == [["foo --a 1", 'bar -k "a or b"']]
    assert table_commands(text) == {"t": "python -m x OUT"}


def test_every_documented_command_has_a_place_here():
    """A command added to the docs without a step here fails this test (so docs and tests move together)."""
    readme = read(README)
    main_block, test_block = blocks(readme)[:2]
    assert len(main_block) == 1 and main_block[0].startswith("python3 -m venv .venv && ")
    assert test_block == list(NOT_RUN)
    students = blocks(section(readme, "For students"))
    release_readme = [c for b in blocks(read(STUDENT_README)) for c in b]
    assert len(students) == 1 and set(students[0]) <= set(release_readme), \
        "README's student block must be the release README's commands (both are run as the release's)"
    self_study = blocks(section(readme, "For self-study readers"))
    assert len(self_study) == 1 and len(self_study[0]) == 2
    nb_readme = read(NOTEBOOKS_README)
    assert [b for b in blocks(nb_readme) if any("render_walkthrough" in c for c in b)] == self_study, \
        "notebooks/README.md's self-study commands are README's"
    assert set(table_commands(section(readme, "For instructors")).values()) == set(INSTRUCTOR_STEPS), \
        "each command of the instructor table needs a step in test_instructor_flow"


# ------------------------------------------------------------------ running
def clean_env(venv_bin=None, **extra):
    """os.environ without this run's virtualenv and Python/pytest settings; ``venv_bin`` first on PATH."""
    drop = ("PYTHON", "PYTEST", "VIRTUAL_ENV", "JUPYTER", "LEC7_", "MPLBACKEND")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    prefixes = {os.path.realpath(sys.prefix), os.path.realpath(os.path.dirname(sys.executable))}
    path = [p for p in env.get("PATH", "/usr/bin:/bin").split(os.pathsep)
            if p and not any(os.path.realpath(p).startswith(pre) for pre in prefixes)]
    if venv_bin:
        path.insert(0, venv_bin)
    env["PATH"] = os.pathsep.join(path)
    env.update(extra)
    return env


def run(label, command, cwd, env, expect=0, timeout=900):
    """``bash -c command`` in ``cwd``; assert its exit code; record its time under ``label``."""
    started = time.monotonic()
    proc = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    TIMES[label] = TIMES.get(label, 0.0) + time.monotonic() - started
    assert proc.returncode == expect, (f"{label}: `{command}` in {cwd} exited {proc.returncode} "
                                       f"(expected {expect}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jupyter_env(venv_bin, tmp):
    """A JUPYTER_CONFIG_DIR with a free port, a token, no browser, and root allowed; runtime dirs in ``tmp``."""
    config = os.path.join(tmp, "jupyter-config")
    os.makedirs(config, exist_ok=True)
    port, token = free_port(), os.urandom(12).hex()
    with open(os.path.join(config, "jupyter_server_config.json"), "w") as fh:
        json.dump({"ServerApp": {"port": port, "port_retries": 0, "token": token, "open_browser": False,
                                 "allow_root": True, "ip": "127.0.0.1"},
                   "LabApp": {"news_url": None, "check_for_updates_class":
                              "jupyterlab.NeverCheckForUpdate"}}, fh)
    env = clean_env(venv_bin, JUPYTER_CONFIG_DIR=config, JUPYTER_RUNTIME_DIR=os.path.join(tmp, "runtime"),
                    JUPYTERLAB_SETTINGS_DIR=os.path.join(tmp, "settings"),
                    JUPYTERLAB_WORKSPACES_DIR=os.path.join(tmp, "workspaces"),
                    IPYTHONDIR=os.path.join(tmp, "ipython"))
    return env, port, token


def serve(label, command, cwd, venv_bin, tmp, notebook):
    """Start ``command`` (jupyter lab) as written; assert it serves ``notebook``; stop it."""
    env, port, token = jupyter_env(venv_bin, tmp)
    started = time.monotonic()
    log = open(os.path.join(tmp, f"{label.replace(' ', '_')}.log"), "w")
    proc = subprocess.Popen(["bash", "-c", command], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents/{notebook}?token={token}"
                                            f"&content=0", timeout=5) as response:
                    model = json.load(response)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(f"{label}: `{command}` did not serve {notebook}:\n"
                                + read(log.name)[-3000:])
                time.sleep(0.5)
        TIMES[label] = time.monotonic() - started
        assert model["type"] == "notebook", model
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=30) as response:
            assert response.status == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


def fresh_copy(dest):
    """The project's files as a clone has them (tracked and new, not ignored), copied to ``dest``."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, listed):
        src = os.path.join(ROOT, rel)
        if os.path.isfile(src):
            os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, rel))
    return dest


# ------------------------------------------------------------------ fixtures: one venv each, per session
@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A fresh copy of the project after README's main command (its .venv, its grades/)."""
    if shutil.which("python3", path=clean_env()["PATH"]) is None:
        pytest.skip("no python3 on PATH")
    if not shutil.which("git"):
        pytest.skip("git is needed to list the project's files")
    base = tmp_path_factory.mktemp("docs")
    root = fresh_copy(str(base / "cs231n-lec7"))
    main = blocks(read(README))[0][0]
    run("README: install + grade examples", main, root, clean_env(), timeout=INSTALL_TIMEOUT)
    with open(os.path.join(root, "grades", "grades.csv")) as fh:
        rows = list(csv.DictReader(fh))
    examples = sorted(os.path.splitext(e)[0] for e in os.listdir(os.path.join(root, "examples", "submissions")))
    assert sorted(r["submission"] for r in rows) == examples
    return {"root": root, "bin": os.path.join(root, ".venv", "bin"), "tmp": str(base)}


def instructor_command(task_words):
    commands = table_commands(section(read(README), "For instructors"))
    found = [c for task, c in commands.items() if task_words in task]
    assert len(found) == 1, f"one instructor command for {task_words!r}, found {found}"
    return found[0]


def placeholders(command, **paths):
    for name, value in paths.items():
        command = re.sub(rf"\b{name}\b", value, command)
    return command


@pytest.fixture(scope="module")
def student(project):
    """The student's flow in a release built by the instructor table's command; returns its paths."""
    release = os.path.join(project["tmp"], "release")
    build = placeholders(instructor_command("student release"), OUT=release)
    run("instructor: release", build, project["root"], clean_env(project["bin"]))
    readme = read(os.path.join(release, "README.md"))
    setup, work, submit = blocks(readme)
    env = clean_env()
    for command in setup:
        run("student: set up (venv + install)", command, release, env, timeout=INSTALL_TIMEOUT)
    check = next(c for c in work if "pytest" in c)
    stubs = run("student: check on the stubs", check, release, env, expect=1)
    assert "not implemented yet" in stubs.stdout, stubs.stdout[-2000:]
    # the student's work: the solution in place of the stubs
    shutil.rmtree(os.path.join(release, "cs231n_lec7"))
    shutil.copytree(os.path.join(project["root"], "cs231n_lec7"), os.path.join(release, "cs231n_lec7"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    venv_bin = os.path.join(release, ".venv", "bin")
    for command in work:
        if "jupyter lab" in command:
            serve("student: jupyter lab", command, release, None, project["tmp"], "01_sgd_problems.ipynb")
        else:
            proc = run("student: check", command, release, env)
            assert " passed" in proc.stdout and " failed" not in proc.stdout, proc.stdout[-2000:]
    nb_readme = read(os.path.join(release, "notebooks", "README.md"))
    assert "render_walkthrough" not in nb_readme, "instructor-only commands are not in the release"
    for block in blocks(nb_readme):
        for command in block:
            proc = run("student: notebooks/README checks", command, release, env)
            assert " passed" in proc.stdout and " failed" not in proc.stdout, proc.stdout[-2000:]
    for (code,) in blocks(nb_readme, "python"):
        proc = run("student: notebook check cell", f"{venv_bin}/python -c {shlex_quote(code)}", release, env)
        assert "passed" in proc.stdout, proc.stdout
    for command in submit:
        run("student: pack", command, release, env)
    return {"release": release, "zip": os.path.join(release, "submission.zip"), "bin": venv_bin}


def shlex_quote(text):
    import shlex

    return shlex.quote(text)


# ------------------------------------------------------------------ the flows
def test_student_flow(student):
    """release -> install (pytest included) -> check -> pack: the zip holds the work and nothing else."""
    assert os.path.isfile(os.path.join(student["bin"], "pytest")), "the install line must bring pytest"
    with zipfile.ZipFile(student["zip"]) as zf:
        names = zf.namelist()
    assert "cs231n_lec7/optim.py" in names and any(n.startswith("notebooks/") for n in names)
    assert all(n.startswith(("cs231n_lec7/", "notebooks/")) for n in names), names
    assert os.path.getsize(student["zip"]) < 5 * 2**20


INSTRUCTOR_STEPS = {
    "python -m autograder release OUT": "built by the student fixture",
    "python -m autograder grade subs/* --out DIR --jobs 4": "grade",
    "python -m autograder report DIR": "class report",
    "python -m autograder references": "references",
    "python -m autograder gradescope autograder.zip": "gradescope",
    "python -m autograder.nbgrader_course build COURSE_DIR": "nbgrader",
    "python -m autograder.nbgrader_course grade-packages COURSE_DIR": "nbgrader",
    "python -m autograder pack FOLDER": "pack",
}


def test_instructor_flow(project, student):
    """grade (the student's zip among the examples) -> references -> Gradescope zip -> nbgrader course."""
    root, env = project["root"], clean_env(project["bin"])
    subs = os.path.join(root, "subs")
    os.makedirs(subs)
    shutil.copy(student["zip"], os.path.join(subs, "student.zip"))
    for entry in os.listdir(os.path.join(root, "examples", "submissions")):
        src = os.path.join(root, "examples", "submissions", entry)
        (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, os.path.join(subs, entry))
    out = os.path.join(project["tmp"], "batch")
    run("instructor: grade", placeholders(instructor_command("grade a batch"), DIR=out), root, env)
    with open(os.path.join(out, "grades.csv")) as fh:
        rows = {r["submission"]: r for r in csv.DictReader(fh)}
    assert float(rows["student"]["total"]) == float(rows["student"]["max"]), rows["student"]
    assert len(rows) == 1 + len(os.listdir(os.path.join(root, "examples", "submissions")))

    run("instructor: class report", placeholders(instructor_command("class report"), DIR=out), root, env)
    with open(os.path.join(out, "report.json")) as fh:
        assert json.load(fh)["submissions"] == len(rows)
    assert os.path.getsize(os.path.join(out, "report.html")) > 0

    run("instructor: references", instructor_command("regenerate stored references"), root, env)
    run("instructor: references --check", "python -m autograder references --check", root, env)

    run("instructor: gradescope zip", instructor_command("Gradescope"), root, env)
    with zipfile.ZipFile(os.path.join(root, "autograder.zip")) as zf:
        assert {"setup.sh", "run_autograder"} <= set(zf.namelist())

    course = os.path.join(project["tmp"], "course")
    run("instructor: nbgrader course build", placeholders(instructor_command("nbgrader course"), COURSE_DIR=course),
        root, env)
    run("instructor: nbgrader generate_assignment", "nbgrader generate_assignment lec7", course, env)
    released = sorted(f for f in os.listdir(os.path.join(course, "release", "lec7")) if f.endswith(".ipynb"))
    assert released == sorted(f for f in os.listdir(os.path.join(root, "notebooks")) if f.endswith(".ipynb"))
    early = run("instructor: grade-packages before autograde",
                placeholders(instructor_command("gradebook from the sandbox"), COURSE_DIR=course), root, env,
                expect=1)
    assert "nbgrader autograde lec7" in early.stderr, early.stderr

    packed = os.path.join(project["tmp"], "packed.zip")
    run("instructor: pack", placeholders(instructor_command("zip a student"), FOLDER=student["release"])
        + f" --out {packed}", root, env)
    with zipfile.ZipFile(packed) as a, zipfile.ZipFile(student["zip"]) as b:
        assert sorted(a.namelist()) == sorted(b.namelist())


def test_self_study_flow(project):
    """JupyterLab serves the notebooks; the walkthrough renders all of them, formulas with a local MathJax."""
    lab, render = blocks(section(read(README), "For self-study readers"))[0]
    serve("self-study: jupyter lab", lab, project["root"], None, project["tmp"], "01_sgd_problems.ipynb")
    run("self-study: render walkthrough", render, project["root"], clean_env(), timeout=1800)
    out = os.path.join(project["root"], "_build", "walkthrough")
    notebooks = sorted(os.path.splitext(f)[0] for f in os.listdir(os.path.join(project["root"], "notebooks"))
                       if f.endswith(".ipynb"))
    assert sorted(os.path.splitext(f)[0] for f in os.listdir(out) if f.endswith(".html")) == \
        sorted(notebooks + ["index"])
    assert os.path.isfile(os.path.join(out, "mathjax", "MathJax.js"))
    page = read(os.path.join(out, f"{notebooks[0]}.html"))
    assert 'src="mathjax/MathJax.js' in page
    remote = re.findall(r'<(?:script|link)[^>]*(?:src|href)="(?:https?:)?//[^"]*"', page)
    assert not remote, f"the walkthrough loads {remote} from the network"


def test_times_of_each_step(capsys):
    """Prints the time of each documented step (the flows above filled TIMES)."""
    if not TIMES:
        pytest.skip("no flow ran")
    width = max(map(len, TIMES))
    lines = [f"  {label:<{width}}  {seconds:7.1f} s" for label, seconds in TIMES.items()]
    with capsys.disabled():
        print("\ndocumented commands, as written:\n" + "\n".join(lines))
