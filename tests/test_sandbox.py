"""The judge/worker boundary: the wire format, the worker's process handling, the fallback mode."""
from __future__ import annotations

import json
import os
import subprocess
import time

import numpy as np
import pytest

from autograder import worker as wire
from autograder.grade import grade_batch, load_config
from autograder.plant import copy_solution, plant_function
from autograder.sandbox import (Limits, RemoteFunctions, Sandbox, StudentError, WorkerDied, WorkerTimeout,
                                call_request)

from privileged import open_root_folders, traversable_tmpdir


@pytest.fixture(scope="module", autouse=True)
def reachable_python():
    """As root the worker is an unprivileged uid: it must reach this Python (see privileged.py)."""
    open_root_folders()


def roundtrip(value, handles=None):
    buffers = []
    data = json.loads(json.dumps(wire.encode(value, buffers, handles)))
    return wire.decode(data, buffers)


def test_wire_roundtrip_keeps_types_and_values():
    value = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "t": 5, "lr": 1e-3, "nan": float("nan"),
             "pair": (np.int64(3), [True, None, "s"]), "scalar": np.float32(2.5)}
    back = roundtrip(value)
    assert back["w"].dtype == np.float32 and np.array_equal(back["w"], value["w"])
    assert back["t"] == 5 and back["lr"] == 1e-3 and np.isnan(back["nan"])
    assert isinstance(back["pair"], tuple) and back["pair"][1] == [True, None, "s"]
    assert back["scalar"] == np.float32(2.5) and back["scalar"].dtype == np.float32


@pytest.mark.parametrize("scalar", [np.int64(4), np.float64(2.5), np.float32(1.5), np.bool_(True)])
def test_wire_numpy_scalars_stay_zero_dimensional_scalars(scalar):
    back = roundtrip(scalar)
    assert np.ndim(back) == 0 and type(back) is type(scalar) and back == scalar


def test_wire_strips_ndarray_subclasses():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return np.ones(self.shape, bool)

    back = roundtrip(np.zeros(3).view(Liar))
    assert type(back) is np.ndarray
    assert not np.array_equal(back, np.ones(3))


def test_wire_refuses_object_arrays_and_mismatched_buffers():
    with pytest.raises(TypeError):
        wire.encode(np.array([object()], dtype=object), [])
    with pytest.raises(ValueError, match="refusing dtype"):
        wire.decode({"__nd__": 0, "dtype": "|O", "shape": [1]}, [b"\0" * 8])
    with pytest.raises(ValueError, match="does not match"):
        wire.decode({"__nd__": 0, "dtype": "<f8", "shape": [4]}, [b"\0" * 8])


def test_wire_decodes_each_buffer_once():
    """A forged answer naming one buffer many times (1000 x 1 MB became 1 GB of copies) is malformed."""
    ref = {"__nd__": 0, "dtype": "<f8", "shape": [2]}
    buffers = [np.arange(2.0).tobytes()]
    with pytest.raises(ValueError, match="already used"):
        wire.decode({"__tuple__": [ref] * 1000}, buffers)
    used = set()  # the decodes of one answer (result, then each writeback) share the count
    assert wire.decode(ref, buffers, used=used).tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="already used"):
        wire.decode([ref], buffers, used=used)
    with pytest.raises(ValueError, match="missing"):
        wire.decode({"__nd__": 1, "dtype": "<f8", "shape": [2]}, buffers)
    with pytest.raises(ValueError, match="missing"):
        wire.decode({"__nd__": -1, "dtype": "<f8", "shape": [2]}, buffers)
    two = [np.ones(2).tobytes(), np.zeros(2).tobytes()]  # distinct buffers decode as before
    a, b = wire.decode([ref, {**ref, "__nd__": 1}], two)
    assert a.tolist() == [1.0, 1.0] and b.tolist() == [0.0, 0.0]


def test_wire_keeps_unsendable_objects_as_handles():
    handles = []
    thing = object()
    buffers = []
    data = wire.encode({"cache": thing}, buffers, handles)
    assert handles == [thing]
    judge_side = wire.decode(json.loads(json.dumps(data)), buffers)
    assert isinstance(judge_side["cache"], wire.Handle)
    assert wire.decode(json.loads(json.dumps(wire.encode(judge_side, []))), [], handles)["cache"] is thing


@pytest.fixture
def solution_dir():
    base = traversable_tmpdir()
    yield copy_solution(os.path.join(base, "sub"))
    import shutil
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize("mode", ["subprocess", "auto"])
def test_worker_calls_and_mirrors_in_place_changes(solution_dir, mode):
    sandbox = Sandbox(solution_dir, Limits(), mode=mode)
    try:
        fn = RemoteFunctions(sandbox)
        w, dw = np.ones((2, 2)), np.full((2, 2), 0.5)
        config = {"learning_rate": 0.1}
        next_w, returned = fn("optim.sgd_momentum")(w, dw, config)
        assert np.allclose(next_w, 1 - 0.05)
        assert "velocity" in config and returned["velocity"].shape == (2, 2)  # dict mutation mirrored
        with pytest.raises(StudentError, match="has no attribute"):
            fn("optim.no_such_rule")(w, dw)
    finally:
        sandbox.stop()


def test_worker_sends_back_only_the_arrays_a_call_changed(solution_dir):
    """In-place changes to array arguments are reported, never written into the judge's arrays; untouched
    arrays do not travel back."""
    plant_function(solution_dir, "optim.sgd_momentum", (
        "def sgd_momentum(w, dw, config=None):\n"
        "    w -= 0.1 * dw\n"
        "    return w, config\n"))
    sandbox = Sandbox(solution_dir, Limits(), mode="subprocess")
    try:
        w, dw = np.ones(3), np.full(3, 2.0)
        answer, _ = sandbox.request(*call_request("optim.sgd_momentum", [w, dw, {}]))
        assert answer["ok"] and sorted(i for i, _ in answer["writeback"]) == [0, 2]  # w changed, dw did not
        fn = RemoteFunctions(sandbox)
        fn("optim.sgd_momentum")(w, dw, {})
        assert np.allclose(w, 1.0) and np.allclose(dw, 2.0)  # the judge's arrays keep their values
        assert sandbox.changed_inputs == [("optim.sgd_momentum", 0)]  # ... and the change is on record
    finally:
        sandbox.stop()


def test_many_runs_a_batch_in_one_round_trip_and_reports_the_first_error(solution_dir):
    """`many` (numerical gradients) equals one call per argument list; a raising call fails the batch."""
    sandbox = Sandbox(solution_dir, Limits(), mode="subprocess")
    try:
        fn = RemoteFunctions(sandbox)
        W = np.arange(6.0).reshape(2, 3)
        batch = fn.many("regularization.l2_penalty", [(W, 0.5), (2 * W, 0.1)])
        one = [fn("regularization.l2_penalty")(*args) for args in [(W, 0.5), (2 * W, 0.1)]]
        assert len(batch) == 2
        for (loss, dW), (loss1, dW1) in zip(batch, one):
            assert loss == loss1 and np.array_equal(dW, dW1)
        with pytest.raises(StudentError, match="ValueError|TypeError"):
            fn.many("regularization.l2_penalty", [(W, 0.5), ("not an array", None)])
    finally:
        sandbox.stop()


def test_many_keeps_each_result_even_when_the_function_reuses_its_output_array(solution_dir):
    """A correct function that returns the same buffer every call: `many` must not hand back copies of
    the last result (each result is encoded as soon as it is returned)."""
    plant_function(solution_dir, "regularization.l2_penalty", (
        "_BUFFER = {}\n"
        "def l2_penalty(W, reg):\n"
        "    out = _BUFFER.setdefault(W.shape, np.empty(W.shape))\n"
        "    out[...] = reg * W\n"
        "    return 0.5 * reg * float(np.sum(W * W)), out\n"))
    sandbox = Sandbox(solution_dir, Limits(), mode="subprocess")
    try:
        W = np.arange(6.0).reshape(2, 3)
        batch = RemoteFunctions(sandbox).many("regularization.l2_penalty", [(W, 0.5), (W, 2.0)])
        assert np.array_equal(batch[0][1], 0.5 * W) and np.array_equal(batch[1][1], 2.0 * W)
    finally:
        sandbox.stop()


def test_a_garbled_answer_kills_the_worker_and_the_next_call_is_clean(solution_dir):
    """Code that writes a frame that is not a JSON object onto the protocol: reported, never misread."""
    plant_function(solution_dir, "optim.adagrad", (
        "def adagrad(w, dw, config=None):\n"
        "    import struct, sys\n"
        "    frame = sys._getframe()\n"
        "    while 'proto_out' not in frame.f_locals:\n"
        "        frame = frame.f_back\n"
        "    out = frame.f_locals['proto_out']\n"
        "    out.write(struct.pack('>I', 3) + b'[1]')\n"
        "    out.flush()\n"
        "    return w, config\n"))
    sandbox = Sandbox(solution_dir, Limits(), mode="subprocess")
    try:
        fn = RemoteFunctions(sandbox)
        with pytest.raises(WorkerDied, match="malformed"):
            fn("optim.adagrad")(np.ones(2), np.ones(2), {})
        assert not sandbox.alive()
        next_w, _ = fn("optim.sgd_momentum")(np.ones(2), np.ones(2), {"learning_rate": 0.5})
        assert np.allclose(next_w, 0.5) and sandbox.restarts == 1
    finally:
        sandbox.stop()


def test_worker_timeout_and_death_are_reported(solution_dir):
    plant_function(solution_dir, "optim.adam", "def adam(w, dw, config=None):\n    while True:\n        pass\n")
    plant_function(solution_dir, "optim.adagrad", "def adagrad(w, dw, config=None):\n    import os\n    os._exit(7)\n")
    sandbox = Sandbox(solution_dir, Limits(), mode="subprocess")
    try:
        fn = RemoteFunctions(sandbox)
        fn.deadline = time.monotonic() + 1.0
        with pytest.raises(WorkerTimeout):
            fn("optim.adam")(np.ones(2), np.ones(2))
        sandbox.restart()
        fn.deadline = time.monotonic() + 5.0
        with pytest.raises(WorkerDied, match="exited with code 7"):
            fn("optim.adagrad")(np.ones(2), np.ones(2))
    finally:
        sandbox.stop()


def test_a_late_answer_is_never_taken_for_the_next_one(solution_dir):
    """A worker that misses its deadline is killed; the next call gets a fresh worker and its own answer."""
    plant_function(solution_dir, "optim.adagrad", (
        "def adagrad(w, dw, config=None):\n"
        "    import time\n"
        "    time.sleep(1.5)\n"
        "    return w * 0 + 111.0, config\n"))
    sandbox = Sandbox(solution_dir, Limits(), mode="subprocess")
    try:
        fn = RemoteFunctions(sandbox)
        fn.deadline = time.monotonic() + 0.5
        with pytest.raises(WorkerTimeout):
            fn("optim.adagrad")(np.ones(2), np.ones(2), {})
        assert not sandbox.alive()
        time.sleep(1.5)  # the old worker would have answered by now
        fn.deadline = time.monotonic() + 5.0
        next_w, _ = fn("optim.sgd_momentum")(np.ones(2), np.ones(2), {"learning_rate": 0.5})
        assert np.allclose(next_w, 0.5) and sandbox.restarts == 1
    finally:
        sandbox.stop()


def test_a_worker_that_stops_reading_cannot_block_the_judge(solution_dir):
    """Writes honour the deadline: a request larger than the pipe, to a worker busy in a call, times out."""
    plant_function(solution_dir, "optim.adagrad", (
        "def adagrad(w, dw, config=None):\n"
        "    import time\n"
        "    time.sleep(30)\n"))
    sandbox = Sandbox(solution_dir, Limits(), mode="subprocess")
    try:
        sandbox.start()
        with pytest.raises(WorkerTimeout):  # the worker is now asleep in adagrad, not reading
            sandbox._exchange(*call_request("optim.adagrad", [np.ones(2), np.ones(2), {}]), time.monotonic() + 1.0)
        started = time.monotonic()
        with pytest.raises(WorkerTimeout):  # 8 MB cannot fit in the pipe
            sandbox._exchange(*call_request("optim.sgd_momentum", [np.ones(2**20)]), time.monotonic() + 1.0)
        assert time.monotonic() - started < 5.0
    finally:
        sandbox.stop()


@pytest.mark.parametrize("swallow_marker", [False, True])
def test_output_is_split_at_the_mark_even_if_the_marker_is_suppressed(solution_dir, swallow_marker):
    """Prints before mark_output() and after it are told apart; code that hides the marker gains nothing."""
    plant_function(solution_dir, "optim.sgd_momentum", (
        "_solution = sgd_momentum\n"
        "def sgd_momentum(w, dw, config=None):\n"
        "    import os\n"
        f"    if {swallow_marker} and not hasattr(os, '_real_write'):\n"
        "        os._real_write = os.write\n"
        "        os.write = lambda fd, b: len(b) if b'lec7' in bytes(b) else os._real_write(fd, b)\n"
        "    print('secret' if w[0] == 7 else 'public', flush=True)\n"
        "    return _solution(w, dw, config)\n"))
    sandbox = Sandbox(solution_dir, Limits(), mode="subprocess")
    try:
        fn = RemoteFunctions(sandbox)
        fn("optim.sgd_momentum")(np.ones(2), np.ones(2), {})
        sandbox.mark_output(wait=0.5)
        fn("optim.sgd_momentum")(np.full(2, 7.0), np.ones(2), {})
    finally:
        sandbox.stop()
    assert "public" in sandbox.output_before_mark and "secret" not in sandbox.output_before_mark
    assert "secret" in sandbox.output_after_mark and "lec7" not in sandbox.output_before_mark
    assert "public" in sandbox.output and "secret" in sandbox.output


def test_escaped_session_is_killed_in_subprocess_mode(solution_dir):
    plant_function(solution_dir, "optim.sgd_momentum", (
        "def sgd_momentum(w, dw, config=None):\n"
        "    import subprocess\n"
        "    subprocess.Popen(['sleep', '4244'], start_new_session=True)\n"
        "    return w, {}\n"))
    sandbox = Sandbox(solution_dir, Limits(), mode="subprocess")
    fn = RemoteFunctions(sandbox)
    fn("optim.sgd_momentum")(np.ones(2), np.ones(2))
    sandbox.stop()
    time.sleep(0.2)
    procs = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "sleep 4244" not in procs


def test_subprocess_fallback_grades_and_says_so(tmp_path, solution_dir):
    config = load_config()
    rows = grade_batch([solution_dir], str(tmp_path / "out"), config=config, mode="subprocess", progress=False)
    assert rows[0]["total"] == pytest.approx(rows[0]["max"])
    results = json.loads((tmp_path / "out" / "sub" / "results.json").read_text())
    assert results["extra_data"]["sandbox"] == "subprocess"
    assert "without namespace isolation" in results["output"]


def test_worker_environment_is_scrubbed(solution_dir):
    os.environ["LEC7_SECRET_FOR_TEST"] = "do-not-leak"
    plant_function(solution_dir, "optim.sgd_momentum", (
        "def sgd_momentum(w, dw, config=None):\n"
        "    import os\n"
        "    return w, {'env': ' '.join(sorted(os.environ))}\n"))
    sandbox = Sandbox(solution_dir, Limits(), mode="subprocess")
    try:
        _, cfg = RemoteFunctions(sandbox)("optim.sgd_momentum")(np.ones(2), np.ones(2))
    finally:
        sandbox.stop()
        del os.environ["LEC7_SECRET_FOR_TEST"]
    assert "LEC7_SECRET_FOR_TEST" not in cfg["env"]


def test_a_forged_error_answer_is_read_as_an_error_not_a_crash():
    """{"ok": false, "error": "text"} (not an object) still becomes a StudentError with no details."""
    from autograder.sandbox import _student_error, error_fields

    assert error_fields({"ok": False, "error": "text"}) == {}
    err = _student_error({"ok": False, "error": ["x"]})
    assert isinstance(err, StudentError) and err.type_name == "Error"
    assert error_fields({"ok": False, "error": {"type": "ValueError"}}) == {"type": "ValueError"}
