"""The student release (``autograder.release.make_release``): stubs only, nothing instructor-only.

- the release holds ``cs231n_lec7/`` with no line of any solution block (our own scan, independent
  of release.py's), and no ``autograder/``, hidden checks, references or instructor tests;
- every configured exercise whose module exists raises ``NotImplementedError`` naming its id and
  notebook, when called by its own visible checks in a subprocess importing the release;
- the release installs with pip (``--target``) and imports from there;
- the visible checks fail on the release and pass on the source tree;
- ``make_release`` refuses: a solution line planted elsewhere (file named), unbalanced markers
  (file:line named), a solution block without a config entry, a non-empty OUT without ``force``;
- with notebooks (slow): no solution or hidden-test region survives in a released notebook.
"""
from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tokenize

import pytest

from autograder.grade import load_config
from autograder.release import ReleaseError, make_release

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "cs231n_lec7")
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
EXERCISES = load_config()["exercises"]
MUST_EXIST = ["optim.sgd_momentum", "optim.nesterov_momentum", "optim.adagrad", "optim.rmsprop", "optim.adam",
              "layers.dropout_forward", "layers.dropout_backward"]


def existing_exercises():
    """Configured exercises whose module exists in the source package."""
    found = [e for e in EXERCISES if os.path.exists(os.path.join(PACKAGE, e.rpartition(".")[0] + ".py"))]
    assert set(MUST_EXIST) <= set(found), "the optim and dropout exercises must always be tested"
    return found


def code_key(line):
    """A line's code with its comment and all whitespace removed (``a = b  # c`` -> ``a=b``)."""
    text = line.strip()
    try:
        comments = [t for t in tokenize.generate_tokens(io.StringIO(text + "\n").readline)
                    if t.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError):
        comments = []
    if comments:
        text = text[: comments[0].start[1]]
    return "".join(text.split())


COMPUTES = re.compile(r"(?<![=<>!])=(?!=)|^return\b")  # an assignment or a return: a line that computes


def solution_lines():
    """Keys of the source package's solution lines -> 'file:line'.

    Two kinds of key: ('exact', stripped line) for every non-comment line (the contract in
    docs/adding_an_exercise.md), and ('code', code_key) for lines that compute something,
    so that other spacing or another trailing comment does not hide a copy.
    """
    found = {}
    for dirpath, _, files in os.walk(PACKAGE):
        for fname in files:
            if not fname.endswith(".py"):
                continue
            path = os.path.join(dirpath, fname)
            inside = False
            for i, line in enumerate(open(path).read().splitlines(), 1):
                if line.strip() == BEGIN:
                    inside = True
                elif line.strip() == END:
                    inside = False
                elif inside and line.strip() and not line.strip().startswith("#"):
                    where = f"{os.path.relpath(path, ROOT)}:{i}"
                    found.setdefault(("exact", line.strip()), where)
                    if COMPUTES.search(code_key(line)):
                        found.setdefault(("code", code_key(line)), where)
    return found


def leaked(line, lines):
    """Where ``line`` comes from if it is a solution line (exactly, or as code), else None."""
    return lines.get(("exact", line.strip())) or lines.get(("code", code_key(line)))


def released_files(root):
    for dirpath, _, files in os.walk(root):
        for fname in files:
            yield os.path.relpath(os.path.join(dirpath, fname), root)


# ------------------------------------------------------------------ contents
def test_release_has_the_package_and_nothing_instructor_only(release):
    files = set(released_files(release))
    assert os.path.isfile(os.path.join(release, "cs231n_lec7", "__init__.py"))
    assert os.path.isfile(os.path.join(release, "cs231n_lec7", "checks", "expected", "optim.npz"))
    assert not any(f.startswith("autograder" + os.sep) for f in files), "autograder/ must not be released"
    assert [f for f in files if f.startswith("tests" + os.sep)] == [os.path.join("tests", "test_visible_checks.py")]
    assert not any(f.endswith(".pyc") or "__pycache__" in f for f in files)
    hidden_markers = ("hidden=True", "autograder.hidden", "make_references", "run_hidden")
    for f in files:
        if f.endswith((".py", ".md", ".toml", ".ipynb")):
            text = open(os.path.join(release, f), encoding="utf-8").read()
            for marker in hidden_markers:
                assert marker not in text, f"{f} mentions {marker!r} (hidden checks or references)"
    digest = lambda path: hashlib.sha256(open(path, "rb").read()).hexdigest()  # noqa: E731
    ref_dir = os.path.join(ROOT, "autograder", "references")
    hidden = {digest(os.path.join(ref_dir, f)) for f in os.listdir(ref_dir)}
    assert hidden, "the hidden references exist in the source tree"
    shipped = [f for f in files if digest(os.path.join(release, f)) in hidden]
    assert not shipped, f"hidden references shipped as {shipped}"
    pyproject = open(os.path.join(release, "pyproject.toml")).read()
    assert "autograder" not in pyproject


def test_no_solution_line_survives(release):
    lines = solution_lines()
    assert len(lines) > 20, "the scan must see the solution blocks"
    assert leaked("  v_hat = v / (1 - b2 ** t)  # planted", lines), "the scan can fail"
    leaks = []
    for f in released_files(release):
        if not f.endswith((".py", ".md", ".toml", ".txt", ".ipynb", ".json", ".yml")):
            continue
        text = open(os.path.join(release, f), encoding="utf-8").read()
        if BEGIN in text or END in text:
            leaks.append(f"{f}: solution marker")
        for i, line in enumerate(text.splitlines(), 1):
            if leaked(line, lines):
                leaks.append(f"{f}:{i}: {line.strip()!r} (from {leaked(line, lines)})")
    assert not leaks, "\n".join(leaks)


def test_released_functions_are_stubs_pointing_at_the_notebook(release):
    """Static view: each exercise's released body raises NotImplementedError("<id> ... <notebook> ...")."""
    for exercise in existing_exercises():
        module, _, func = exercise.rpartition(".")
        source_tree = ast.parse(open(os.path.join(PACKAGE, f"{module}.py")).read())
        assert any(isinstance(n, ast.FunctionDef) and n.name == func for n in ast.walk(source_tree)), \
            f"{exercise} is configured and its module exists, but the function does not"
        tree = ast.parse(open(os.path.join(release, "cs231n_lec7", f"{module}.py")).read())
        fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == func)
        messages = [ast.literal_eval(n.exc.args[0]) for n in ast.walk(fn)
                    if isinstance(n, ast.Raise) and isinstance(n.exc, ast.Call)
                    and getattr(n.exc.func, "id", None) == "NotImplementedError" and n.exc.args]
        assert messages, f"released {exercise} has no NotImplementedError stub (is the solution marked?)"
        assert any(exercise in m and EXERCISES[exercise]["notebook"] in m for m in messages), messages


PROBE = r'''
import importlib, json, os, sys
sys.path.insert(1, sys.argv[1])              # the source solution, renamed lec7_solution
import cs231n_lec7
assert os.path.dirname(cs231n_lec7.__file__).startswith(sys.argv[2]), cs231n_lec7.__file__
from cs231n_lec7.checks import visible_checks
from cs231n_lec7.checks.core import Context, LocalFunctions, quiet_numerics
released, solution = LocalFunctions(), LocalFunctions(package="lec7_solution")
out = {}
for exercise in json.loads(sys.argv[3]):
    fn = lambda ex, target=exercise: released(ex) if ex == target else solution(ex)
    messages = []
    for c in visible_checks(exercise):
        try:
            with quiet_numerics():
                c.func(Context(fn))
        except NotImplementedError as err:
            messages.append(str(err))
        except Exception as err:
            messages.append(f"OTHER {type(err).__name__}: {err}")
    out[exercise] = messages
print(json.dumps(out))
'''


def test_every_exercise_raises_not_implemented_naming_id_and_notebook(release, tmp_path, python_env):
    """Dynamic view, in a subprocess importing the release: the exercise's own visible checks
    call it (other exercises come from the solution) and get the stub's NotImplementedError."""
    solution = tmp_path / "solution"
    shutil.copytree(PACKAGE, solution / "lec7_solution", ignore=shutil.ignore_patterns("__pycache__"))
    exercises = existing_exercises()
    proc = subprocess.run([sys.executable, "-c", PROBE, str(solution), release, json.dumps(exercises)],
                          cwd=tmp_path, env=python_env(release), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    problems = []
    for exercise in exercises:
        messages = found[exercise]
        notebook = EXERCISES[exercise]["notebook"]
        if not messages:
            problems.append(f"{exercise}: no visible check called it")
        elif not any(exercise in m and notebook in m and not m.startswith("OTHER") for m in messages):
            problems.append(f"{exercise}: {messages[:2]}")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ install, visible checks
@pytest.mark.slow
def test_release_installs_with_pip_and_imports(release, tmp_path, python_env):
    from importlib.metadata import version

    setuptools = version("setuptools")
    assert int(setuptools.split(".")[0]) >= 77, (
        f"setuptools {setuptools} cannot build a pyproject with license = \"MIT\" without build isolation: "
        f"pip install -e '.[dev]' brings setuptools>=77 (python3 -m venv on 3.11 comes with 65)")
    target = tmp_path / "site"
    build = tmp_path / "src"
    shutil.copytree(release, build)  # pip may write build/ and *.egg-info next to the sources
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                           "--no-index", "--target", str(target), str(build)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert (target / "cs231n_lec7" / "checks" / "expected" / "optim.npz").exists(), "package data not installed"
    assert not (target / "autograder").exists(), "the student install must not contain the grader"
    code = ("import cs231n_lec7, cs231n_lec7.optim as o, numpy as np, sys; print(cs231n_lec7.__file__);"
            "w = np.zeros(3); print(o.sgd(w, np.ones(3))[0].tolist());"
            "\ntry:\n    o.adam(w, np.ones(3))\nexcept NotImplementedError as e:\n    print('STUB', e)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=python_env(target),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines()[0].startswith(str(target))
    assert "STUB optim.adam" in proc.stdout


def run_visible_checks(cwd, env):
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_visible_checks.py"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def summary(proc):
    counts = dict((k, int(n)) for n, k in re.findall(r"(\d+) (passed|failed|error)", proc.stdout))
    return counts.get("passed", 0), counts.get("failed", 0) + counts.get("error", 0)


@pytest.mark.slow
def test_visible_checks_fail_on_the_release(release, tmp_path, python_env):
    work = tmp_path / "rel"
    shutil.copytree(release, work)
    proc = run_visible_checks(work, python_env(work))
    passed, failed = summary(proc)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert failed > 0 and passed == 0, f"{passed} visible checks pass on the stubs:\n{proc.stdout[-3000:]}"
    assert "NotImplementedError" in proc.stdout


@pytest.mark.slow
def test_visible_checks_pass_on_the_source_tree(python_env):
    proc = run_visible_checks(ROOT, python_env(ROOT))
    passed, failed = summary(proc)
    assert proc.returncode == 0 and failed == 0 and passed > 0, proc.stdout[-3000:] + proc.stderr[-2000:]


# ------------------------------------------------------------------ refusals
@pytest.fixture
def source_copy(tmp_path):
    """A minimal copy of the source tree make_release can build from."""
    src = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(PACKAGE, src / "cs231n_lec7", ignore=ignore)
    shutil.copytree(os.path.join(ROOT, "autograder"), src / "autograder", ignore=ignore)
    (src / "tests").mkdir()
    shutil.copyfile(os.path.join(ROOT, "tests", "test_visible_checks.py"), src / "tests" / "test_visible_checks.py")
    shutil.copyfile(os.path.join(ROOT, "pyproject.toml"), src / "pyproject.toml")
    return src


def build(source, out, **kw):
    return make_release(str(out), notebooks=False, source_root=str(source), **kw)


def test_source_copy_builds(source_copy, tmp_path):
    """The refusal tests below start from a copy that builds (so each refusal has one cause)."""
    assert os.path.isdir(os.path.join(build(source_copy, tmp_path / "out"), "cs231n_lec7"))


ADAM_LINE = "v_hat = v / (1 - b2**t)"


def adam_solution_line():
    text = open(os.path.join(PACKAGE, "optim.py")).read()
    block = text.split(BEGIN)[-1].split(END)[0]
    assert ADAM_LINE in block, "update ADAM_LINE: it must be a line of optim.adam's solution"
    return ADAM_LINE


@pytest.mark.parametrize("target", ["cs231n_lec7/plotting.py", "cs231n_lec7/checks/optim.py",
                                    "tests/test_visible_checks.py", "autograder/STUDENT_README.md"])
def test_refuses_a_planted_solution_line_and_names_the_file(source_copy, tmp_path, target):
    line = adam_solution_line()
    path = source_copy / target
    if target.endswith(".py"):
        plant = f'\n\ndef _reminder():\n    """Adam, as code:\n\n        {line}\n    """\n'
    else:
        plant = f"\n```python\n{line}\n```\n"
    with open(path, "a") as fh:
        fh.write(plant)
    out = tmp_path / "out"
    with pytest.raises(ReleaseError) as err:
        build(source_copy, out)
    shown = "README.md" if target.endswith("STUDENT_README.md") else target
    assert shown in str(err.value) and line in str(err.value), str(err.value)
    assert not out.exists(), "nothing is written when the release is refused"


@pytest.mark.parametrize("variant", ["v_hat = v / (1 - b2 ** t)", "v_hat = v / (1 - b2**t)  # bias correction"],
                         ids=["spacing", "trailing-comment"])
def test_refuses_a_solution_line_with_other_spacing_or_comment(source_copy, tmp_path, variant):
    """Whitespace or a trailing comment must not let a solution line through the final scan."""
    adam_solution_line()
    with open(source_copy / "cs231n_lec7" / "plotting.py", "a") as fh:
        fh.write(f'\n\ndef _reminder():\n    """Adam:\n\n        {variant}\n    """\n')
    with pytest.raises(ReleaseError, match="plotting.py"):
        build(source_copy, tmp_path / "out")


def edit(path, old, new, count=1):
    text = open(path).read()
    assert old in text, f"{old!r} not in {path}"
    with open(path, "w") as fh:
        fh.write(text.replace(old, new, count))


def marker_line(path, marker, nth=1):
    lines = [i for i, line in enumerate(open(path).read().splitlines(), 1) if line.strip() == marker]
    return lines[nth - 1]


def delete_line(path, lineno):
    lines = open(path).read().splitlines(keepends=True)
    del lines[lineno - 1]
    open(path, "w").writelines(lines)


def test_refuses_a_begin_inside_another_block_naming_file_and_line(source_copy, tmp_path):
    path = source_copy / "cs231n_lec7" / "optim.py"
    delete_line(path, marker_line(path, END, 1))      # the first block now runs into the second
    nested = marker_line(path, BEGIN, 2)
    with pytest.raises(ReleaseError) as err:
        build(source_copy, tmp_path / "out")
    assert re.search(rf"cs231n_lec7[/\\]optim\.py:{nested}\b", str(err.value)), str(err.value)


def test_refuses_a_block_never_closed_naming_file_and_line(source_copy, tmp_path):
    path = source_copy / "cs231n_lec7" / "optim.py"
    last_end = [i for i, line in enumerate(open(path).read().splitlines(), 1) if line.strip() == END][-1]
    delete_line(path, last_end)
    last_begin = [i for i, line in enumerate(open(path).read().splitlines(), 1) if line.strip() == BEGIN][-1]
    with pytest.raises(ReleaseError) as err:
        build(source_copy, tmp_path / "out")
    assert re.search(rf"cs231n_lec7[/\\]optim\.py:{last_begin}\b", str(err.value)), str(err.value)


def test_refuses_an_end_without_begin_naming_file_and_line(source_copy, tmp_path):
    path = source_copy / "cs231n_lec7" / "layers.py"
    delete_line(path, marker_line(path, BEGIN, 1))
    end = marker_line(path, END, 1)
    with pytest.raises(ReleaseError) as err:
        build(source_copy, tmp_path / "out")
    assert re.search(rf"cs231n_lec7[/\\]layers\.py:{end}\b", str(err.value)), str(err.value)


def test_refuses_a_solution_block_without_a_config_entry(source_copy, tmp_path):
    extra = textwrap.dedent('''

        def sgd_clipped(w, dw, config=None):
            """SGD with the gradient clipped to [-1, 1]."""
            ### BEGIN SOLUTION
            next_w = w - 0.01 * np.clip(dw, -1.0, 1.0)
            ### END SOLUTION
            return next_w, config
        ''')
    with open(source_copy / "cs231n_lec7" / "optim.py", "a") as fh:
        fh.write(extra)
    with pytest.raises(ReleaseError) as err:
        build(source_copy, tmp_path / "out")
    assert "optim.sgd_clipped" in str(err.value) and "config.toml" in str(err.value), str(err.value)


def test_refuses_a_removed_config_entry(source_copy, tmp_path):
    config = source_copy / "autograder" / "config.toml"
    text = open(config).read()
    cut = re.sub(r'\[exercises\."optim\.adagrad"\][^\[]*', "", text)
    assert cut != text
    open(config, "w").write(cut)
    with pytest.raises(ReleaseError, match=r"optim\.adagrad"):
        build(source_copy, tmp_path / "out")


def test_refuses_a_non_empty_out_without_force(source_copy, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ReleaseError, match="not empty"):
        build(source_copy, out)
    assert (out / "keep.txt").read_text() == "mine"
    build(source_copy, out, force=True)
    assert not (out / "keep.txt").exists() and (out / "cs231n_lec7").is_dir()
    empty = tmp_path / "empty"
    empty.mkdir()
    build(source_copy, empty)  # an existing empty folder is fine
    assert (empty / "cs231n_lec7").is_dir()


# ------------------------------------------------------------------ with notebooks
@pytest.mark.slow
def test_release_with_notebooks_has_no_solutions_or_hidden_tests(tmp_path):
    nb_dir = os.path.join(ROOT, "notebooks")
    sources = sorted(f for f in os.listdir(nb_dir) if f.endswith(".ipynb")) if os.path.isdir(nb_dir) else []
    if not sources:
        pytest.skip("no notebooks in the source tree yet")
    pytest.importorskip("nbgrader")
    out = make_release(str(tmp_path / "rel"), notebooks=True)
    released = sorted(f for f in os.listdir(os.path.join(out, "notebooks")) if f.endswith(".ipynb"))
    assert released == sources
    lines = solution_lines()
    for fname in released:
        nb = json.load(open(os.path.join(out, "notebooks", fname)))
        for n, cell in enumerate(nb["cells"]):
            source = "".join(cell.get("source", []))
            for marker in (BEGIN, END, "### BEGIN HIDDEN TESTS", "run_hidden"):
                assert marker not in source, f"{fname} cell {n} keeps {marker!r}"
            assert not cell.get("outputs"), f"{fname} cell {n} has outputs"
            for line in source.splitlines():
                assert not leaked(line, lines), f"{fname} cell {n}: {line.strip()!r}"


# ------------------------------------------------------------------ what students run
def test_release_pyproject_dev_extra_is_what_students_run(release):
    """``pip install -e '.[dev]'`` in the release brings pytest (the README's check command), not the
    instructor's browser tooling."""
    import tomllib

    with open(os.path.join(release, "pyproject.toml"), "rb") as fh:
        project = tomllib.load(fh)["project"]
    dev = project["optional-dependencies"]["dev"]
    assert any(d.startswith("pytest>") for d in dev) and any(d.startswith("pytest-timeout") for d in dev), dev
    assert not any(d.startswith(("playwright", "nbmake")) for d in dev), dev
    readme = open(os.path.join(release, "README.md"), encoding="utf-8").read()
    assert "pip install -e '.[dev]'" in readme and "pack.py" in readme


PATH_REF = re.compile(r"(?<![\w/.-])((?:scripts|tests|autograder|datasets|notebooks|cs231n_lec7|examples|docs|"
                      r"benchmarks)/[\w./-]*[\w/])")
MADE_BY_COMMANDS = {"datasets/cifar-10-python.tar.gz", "datasets/cifar-10-batches-py"}  # get_datasets.py


def dangling_references(root):
    """['file: path'] for every project path a shipped Markdown file or notebook cell names that is absent."""
    found = []
    for dirpath, _, files in os.walk(root):
        for fname in files:
            path = os.path.join(dirpath, fname)
            if fname.endswith(".md"):
                texts = [open(path, encoding="utf-8").read()]
            elif fname.endswith(".ipynb"):
                texts = ["".join(c.get("source", [])) for c in json.load(open(path, encoding="utf-8"))["cells"]]
            else:
                continue
            for text in texts:
                for ref in PATH_REF.findall(text):
                    ref = ref.rstrip("/.")
                    if ref not in MADE_BY_COMMANDS and not os.path.exists(os.path.join(root, ref)):
                        found.append(f"{os.path.relpath(path, root)}: {ref}")
    return found


def test_dangling_references_are_found(tmp_path):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "here.py").write_text("")
    (tmp_path / "README.md").write_text("run `python scripts/here.py`, then `scripts/render_walkthrough.py`.\n")
    assert dangling_references(tmp_path) == ["README.md: scripts/render_walkthrough.py"]


@pytest.mark.slow
def test_release_docs_name_only_files_that_ship(tmp_path):
    """No README or notebook of the release points to a script, test or grader file it does not hold."""
    out = make_release(str(tmp_path / "rel"), notebooks=True)
    assert os.path.isfile(os.path.join(out, "notebooks", "README.md"))
    problems = dangling_references(out)
    assert not problems, "the release names files it does not ship:\n" + "\n".join(problems)
    index = open(os.path.join(out, "notebooks", "README.md"), encoding="utf-8").read()
    assert "INSTRUCTOR ONLY" not in index and "render_walkthrough" not in index


def test_instructor_only_regions_are_stripped():
    from autograder.release import strip_instructor_only

    text = "keep <!-- BEGIN INSTRUCTOR ONLY -->drop\nthis<!-- END INSTRUCTOR ONLY --> and this\n"
    assert strip_instructor_only(text) == "keep  and this\n"
    assert strip_instructor_only("no markers\n") == "no markers\n"


# ------------------------------------------------------------------ packing a submission
def test_pack_zips_only_the_package_and_notebooks_and_the_zip_grades(release, tmp_path):
    """pack.py (shipped in the release) leaves out .venv, caches, checkpoints, data; the grader grades its zip."""
    import zipfile

    from autograder.grade import grade_batch, load_config

    work = tmp_path / "mywork"
    shutil.copytree(release, work)
    shutil.rmtree(work / "cs231n_lec7")
    shutil.copytree(PACKAGE, work / "cs231n_lec7", ignore=shutil.ignore_patterns("__pycache__"))
    (work / "notebooks").mkdir(exist_ok=True)
    (work / "notebooks" / "01_mine.ipynb").write_text("{}")
    (work / "notebooks" / ".ipynb_checkpoints").mkdir()
    (work / "notebooks" / ".ipynb_checkpoints" / "01_mine-checkpoint.ipynb").write_text("{}")
    (work / "notebooks" / "big_output.npy").write_bytes(b"0" * 1000)
    (work / ".venv" / "lib").mkdir(parents=True)
    (work / ".venv" / "lib" / "huge.so").write_bytes(b"0" * 100_000)
    (work / "cs231n_lec7" / "__pycache__").mkdir()
    (work / "cs231n_lec7" / "__pycache__" / "optim.cpython-311.pyc").write_bytes(b"x")
    proc = subprocess.run([sys.executable, "pack.py"], cwd=work, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(work / "submission.zip") as zf:
        names = zf.namelist()
    assert "cs231n_lec7/optim.py" in names and "notebooks/01_mine.ipynb" in names
    assert all(n.startswith(("cs231n_lec7/", "notebooks/")) for n in names), names
    assert not [n for n in names if ".venv" in n or "__pycache__" in n or "checkpoint" in n or n.endswith(".npy")]
    proc = subprocess.run([sys.executable, "pack.py", str(tmp_path)], cwd=work, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1 and "no cs231n_lec7/ folder" in proc.stderr
    config = load_config()
    config["limits"]["per_exercise_timeout_s"] = 4.0
    row, = grade_batch([str(work / "submission.zip")], str(tmp_path / "out"), config=config, progress=False)
    assert not row["problem"] and row["total"] == row["max"], row


def test_an_oversized_zip_is_told_what_to_leave_out(tmp_path):
    """A zip of the whole folder (with .venv) is refused with a sentence naming .venv and pack.py."""
    import zipfile

    from autograder.grade import grade_batch, load_config

    with zipfile.ZipFile(tmp_path / "everything.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("cs231n_lec7/__init__.py", "")
        zf.writestr(".venv/lib/libhuge.so", b"\0" * (3 * 2**20))
    config = load_config()
    config["limits"]["submission_mb"] = 2
    row, = grade_batch([str(tmp_path / "everything.zip")], str(tmp_path / "out"), config=config, progress=False)
    assert "more than the 2 MB limit" in row["problem"], row
    assert ".venv" in row["problem"] and "pack.py" in row["problem"], row["problem"]


# ------------------------------------------------------------------ stubs state the contract, notebooks the math
MATH_BEGIN, MATH_END = ".. math-begin", ".. math-end"


def source_equations():
    """{whitespace-free equation line: 'file:line'} inside the source's math blocks (own scan)."""
    found = {}
    for dirpath, _, files in os.walk(PACKAGE):
        for fname in files:
            if not fname.endswith(".py"):
                continue
            path = os.path.join(dirpath, fname)
            inside = False
            for i, line in enumerate(open(path).read().splitlines(), 1):
                if line.strip() == MATH_BEGIN:
                    inside = True
                elif line.strip() == MATH_END:
                    inside = False
                elif inside and len("".join(line.split())) > 4:
                    found.setdefault("".join(line.split()), f"{os.path.relpath(path, ROOT)}:{i}")
    return found


MATH_EXERCISES = ["optim.sgd_momentum", "optim.nesterov_momentum", "optim.adagrad", "optim.rmsprop", "optim.adam",
                  "layers.dropout_forward", "layers.dropout_backward", "schedules.step_decay",
                  "schedules.exponential_decay", "schedules.inverse_time_decay", "second_order.newton_step",
                  "second_order.lbfgs_two_loop", "averaging.ema_update", "averaging.average_predictions"]


def test_no_stripped_equation_leaks_and_the_contract_stays(release):
    """The update equations leave the released package (anywhere in it, quoted or not); each stripped
    docstring points at its notebook section and keeps the contract (config keys, state, conventions)."""
    equations = source_equations()
    assert "w<-w+v" in equations and "t<-t+1(incrementBEFOREuse:firststept=1)" in equations, \
        "the optimizer docstrings carry math blocks"
    leaks = []
    for f in released_files(release):
        if not (f.startswith("cs231n_lec7") and f.endswith(".py")):
            continue
        for i, line in enumerate(open(os.path.join(release, f), encoding="utf-8").read().splitlines(), 1):
            key = "".join(line.split())
            if MATH_BEGIN in line or MATH_END in line:
                leaks.append(f"{f}:{i}: math marker")
            leaks += [f"{f}:{i}: {line.strip()!r} (from {where})" for eq, where in equations.items() if eq in key]
    assert not leaks, "\n".join(leaks)
    for exercise in MATH_EXERCISES:
        module, _, func = exercise.rpartition(".")
        tree = ast.parse(open(os.path.join(release, "cs231n_lec7", f"{module}.py")).read())
        doc = ast.get_docstring(next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == func))
        spec = EXERCISES[exercise]
        assert f'notebook {spec["notebook"]}, section "{spec["section"]}"' in doc, (exercise, doc)
    optim = open(os.path.join(release, "cs231n_lec7", "optim.py")).read()
    for contract in ("t = 1", "- velocity: State", "- cache: State", "- t: State, the step counter (starts at 0)",
                     "epsilon is always added *outside* the square root"):
        assert contract in optim, f"the released optim.py lost the contract line {contract!r}"


@pytest.mark.parametrize("target", ["cs231n_lec7/plotting.py", "cs231n_lec7/checks/optim.py"])
def test_refuses_a_leaked_equation_and_names_the_file(source_copy, tmp_path, target):
    """An equation quoted outside its math block (a hint, a comment) is refused by the release builder."""
    with open(source_copy / target, "a") as fh:
        fh.write('\n\nREMINDER = "Adam: m  <- beta1 * m + (1 - beta1) * dw, then correct the bias"\n')
    with pytest.raises(ReleaseError) as err:
        build(source_copy, tmp_path / "out")
    assert target in str(err.value) and "equation from cs231n_lec7" in str(err.value), str(err.value)


def test_refuses_an_unclosed_math_block_or_one_outside_an_exercise(source_copy, tmp_path):
    path = source_copy / "cs231n_lec7" / "optim.py"
    delete_line(path, marker_line(path, MATH_END, 1))
    with pytest.raises(ReleaseError, match=r"optim\.py:\d+: \.\. math-begin"):
        build(source_copy, tmp_path / "out")
    shutil.copyfile(os.path.join(PACKAGE, "optim.py"), path)
    edit(source_copy / "cs231n_lec7" / "plotting.py", '"""', f'"""\n{MATH_BEGIN}\nx = 1\n{MATH_END}\n')
    with pytest.raises(ReleaseError, match="outside the docstring of an exercise"):
        build(source_copy, tmp_path / "out2")
