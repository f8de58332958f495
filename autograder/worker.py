"""The worker: runs a student's functions on request, and nothing else.

This file is copied into a folder the worker can read but not write and
started as a script (``python -S worker.py [--nproc=N] SITE_DIR...``) in the
submission's folder; it imports only the standard library, numpy and — on
request — the student's ``cs231n_lec7`` package from the working directory. It
never sees the reference solution, the references or the hidden checks.
``--nproc=N`` sets RLIMIT_NPROC before any student code runs (inside a user
namespace, where it counts this worker's processes alone); ``--seccomp-fd=FD``
installs the seccomp filter read from FD (where nothing installed it before).

Protocol (on the process's original stdin/stdout; the student's prints go to
stderr, which the judge captures and caps):

    frame  = u32 header length | header (JSON) | buffers
    header = {"op": ..., ...,  "buffers": [n bytes of each buffer]}

Values travel as JSON with arrays replaced by ``{"__nd__": i, "dtype", "shape"}``
referring to buffer i. Only numeric/bool dtypes travel; the judge rebuilds
plain ndarrays from raw bytes, so an ndarray subclass or a patched numpy in
the worker cannot fool a comparison. Objects that cannot travel stay in the
worker and are sent as ``{"__handle__": id}``; passing a handle back in a
later call refers to the same object.

Requests: ``{"op": "call", "fn": "optim.adam", "args": [...], "kwargs": {...}}``
answers ``{"ok": true, "result": ..., "writeback": [[i, value], ...]}`` where
writeback carries the state, after the call, of dict arguments and of array
arguments whose bytes changed (the judge mirrors in-place changes); ``{"op": "import", "module": "optim"}``
answers ``{"ok": true}`` or the import error; ``{"op": "many", "fn": ..., "arg_lists":
[[...], ...]}`` calls the function once per argument list (numerical gradients:
one round trip instead of hundreds) and answers ``{"ok": true, "results": [...]}``
without writeback, or the first error; ``{"op": "mark", "text": ...}`` flushes
the student's output and prints ``text`` (the judge's phase boundary); errors answer
``{"ok": false, "error": {"type", "message", "where"}}``.
"""
import importlib
import json
import os
import struct
import sys
import traceback

PACKAGE = "cs231n_lec7"
MAX_FRAME = 512 * 1024 * 1024
ALLOWED_KINDS = "biufc"
_HEADER = struct.Struct(">I")


# ---------------------------------------------------------------- encoding
def encode(value, buffers, handles=None, np=None):
    """Encode ``value`` as JSON-able data; arrays go to ``buffers``.

    ``handles`` (worker side) stores objects that cannot travel and returns
    a handle; without it (judge side) such objects raise TypeError.
    """
    if np is None:
        import numpy as np
    if isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
        if arr.dtype.kind in ALLOWED_KINDS and not arr.dtype.hasobject:
            buffers.append(arr.tobytes(order="C"))  # 0-d stays 0-d (unlike ascontiguousarray)
            return {"__nd__": len(buffers) - 1, "dtype": arr.dtype.str,
                    "shape": list(arr.shape), "scalar": isinstance(value, np.generic)}
    elif value is None or isinstance(value, (bool, str)):
        return value
    elif isinstance(value, int):
        return value if -2**63 <= value < 2**63 else float(value)
    elif isinstance(value, float):
        return {"__float__": repr(value)} if value != value or value in (float("inf"), float("-inf")) else value
    elif isinstance(value, Handle):
        return {"__handle__": value.id}
    elif isinstance(value, tuple):
        return {"__tuple__": [encode(v, buffers, handles, np) for v in value]}
    elif isinstance(value, list):
        return [encode(v, buffers, handles, np) for v in value]
    elif isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: encode(v, buffers, handles, np) for k, v in value.items()}}
    if handles is None:
        raise TypeError(f"cannot send a {type(value).__name__} to the worker")
    handles.append(value)
    return {"__handle__": len(handles) - 1, "type": type(value).__name__}


def decode(data, buffers, handles=None, np=None, used=None):
    """Inverse of :func:`encode`. Arrays are rebuilt from raw bytes as plain ndarrays.

    Each buffer may be referenced once (``used`` collects the indices taken, shared by the
    decodes of one message): a forged header naming one buffer a thousand times is malformed
    instead of a thousand copies, so the decoded arrays never exceed the bytes that arrived.
    """
    if np is None:
        import numpy as np
    if used is None:
        used = set()
    if isinstance(data, list):
        return [decode(v, buffers, handles, np, used) for v in data]
    if not isinstance(data, dict):
        return data
    if "__nd__" in data:
        dtype = np.dtype(data["dtype"])
        if dtype.kind not in ALLOWED_KINDS or dtype.hasobject:
            raise ValueError(f"refusing dtype {dtype}")
        shape = tuple(int(s) for s in data["shape"])
        index = int(data["__nd__"])
        if not 0 <= index < len(buffers) or index in used:
            raise ValueError("an array refers to a buffer that is missing or already used")
        used.add(index)
        raw = buffers[index]
        count = 1
        for s in shape:
            count *= s
        if count * dtype.itemsize != len(raw):
            raise ValueError("array buffer does not match its shape and dtype")
        arr = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
        return arr[()] if data.get("scalar") else arr
    if "__float__" in data:
        return float(data["__float__"])
    if "__tuple__" in data:
        return tuple(decode(v, buffers, handles, np, used) for v in data["__tuple__"])
    if "__dict__" in data:
        return {str(k): decode(v, buffers, handles, np, used) for k, v in data["__dict__"].items()}
    if "__handle__" in data:
        if handles is None:
            return Handle(int(data["__handle__"]), str(data.get("type", "object")))
        return handles[int(data["__handle__"])]
    raise ValueError("malformed message")


class Handle:
    """An object that stayed in the worker (judge side)."""

    def __init__(self, id, type_name="object"):
        self.id, self.type_name = id, type_name

    def __repr__(self):
        return f"<{self.type_name} kept in the worker>"


def frame_bytes(header, buffers):
    """A whole frame as bytes, sent in one write: the reader wakes once per message."""
    header = dict(header, buffers=[len(b) for b in buffers])
    data = json.dumps(header, allow_nan=False).encode()
    return b"".join([_HEADER.pack(len(data)), data, *buffers])


def write_frame(stream, header, buffers):
    stream.write(frame_bytes(header, buffers))
    stream.flush()


def read_exact(stream, n):
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            raise EOFError("stream closed")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_frame(stream):
    (n,) = _HEADER.unpack(read_exact(stream, _HEADER.size))
    if n > MAX_FRAME:
        raise ValueError("frame too large")
    header = json.loads(read_exact(stream, n))
    sizes = header.pop("buffers", [])
    if sum(sizes) > MAX_FRAME:
        raise ValueError("frame too large")
    return header, [read_exact(stream, int(s)) for s in sizes]


# ------------------------------------------------------------------ worker
def _where(exc):
    """The last traceback frame inside the submission, as 'file.py:line in func'."""
    here = os.getcwd()
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith(here) and os.path.basename(f.filename) != "_worker.py"]
    if not frames:
        return ""
    f = frames[-1]
    return f"{os.path.relpath(f.filename, here)}:{f.lineno} in {f.name}"


def _error(exc):
    try:
        message = str(exc)
    except BaseException:  # a __str__ that raises
        message = "(the exception's message could not be read)"
    if len(message) > 500:
        message = message[:500] + "..."
    name = type(exc).__name__
    if not isinstance(name, str) or len(name) > 100:
        name = str(name)[:100]
    return {"ok": False, "error": {"type": name, "message": message, "where": _where(exc)[:200]}}


def _changed(array, sent, buffers):
    """False when ``array`` still holds exactly the bytes it arrived with (no need to send it back)."""
    try:
        raw = buffers[int(sent["__nd__"])]
        return array.dtype.str != sent["dtype"] or list(array.shape) != sent["shape"] or array.tobytes() != raw
    except (TypeError, KeyError, IndexError, ValueError):
        return True


def _function(name):
    """The student's function ``module.function`` of the package."""
    module_name, _, func_name = name.rpartition(".")
    return getattr(importlib.import_module(f"{PACKAGE}.{module_name}"), func_name)


def serve(proto_in, proto_out):
    import numpy as np

    handles = []
    while True:
        try:
            request, buffers = read_frame(proto_in)
        except EOFError:
            return
        op = request.get("op")
        out_buffers = []
        try:
            if op == "call":
                func = _function(request["fn"])
                args = decode(request["args"], buffers, handles, np)
                kwargs = decode(request["kwargs"], buffers, handles, np)
                result = func(*args, **kwargs)
                writeback = [[i, encode(a, out_buffers, handles, np)] for i, a in enumerate(args)
                             if isinstance(a, dict) or (isinstance(a, np.ndarray)
                                                        and _changed(a, request["args"][i], buffers))]
                answer = {"ok": True, "result": encode(result, out_buffers, handles, np),
                          "writeback": writeback}
            elif op == "many":  # the same function on many argument lists; no writeback
                func = _function(request["fn"])
                # Each result is encoded as soon as it is returned: a function that reuses one
                # output array for every call must not see all results become the last one.
                results = [encode(func(*args), out_buffers, handles, np)
                           for args in decode(request["arg_lists"], buffers, handles, np)]
                answer = {"ok": True, "results": results}
            elif op == "import":
                importlib.import_module(f"{PACKAGE}.{request['module']}")
                answer = {"ok": True}
            elif op == "mark":  # flush the student's prints, then print the judge's marker
                sys.stdout.flush()
                sys.stderr.flush()
                os.write(2, str(request["text"]).encode())
                answer = {"ok": True}
            elif op == "ping":
                answer = {"ok": True, "pid": os.getpid()}
            else:
                answer = {"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {op!r}",
                                                 "where": ""}}
        except BaseException as exc:  # SystemExit, KeyboardInterrupt... all stay in this call
            out_buffers = []
            answer = _error(exc)
        try:
            write_frame(proto_out, answer, out_buffers)
        except (TypeError, ValueError) as exc:  # e.g. a NaN smuggled in a float
            write_frame(proto_out, _error(exc), [])


def _install_seccomp(fd):
    """no_new_privs, then the seccomp filter (``struct sock_filter[]``) read from ``fd``."""
    import ctypes

    with os.fdopen(fd, "rb") as fh:
        program = fh.read()

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:
        raise SystemExit(f"the worker could not install its seccomp filter (errno {ctypes.get_errno()})")


def main(argv):
    # Protocol on private copies of stdin/stdout; the student's prints go to stderr.
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    if argv and argv[0].startswith("--nproc="):
        import resource

        n = int(argv.pop(0).partition("=")[2])
        resource.setrlimit(resource.RLIMIT_NPROC, (n, n))
    if argv and argv[0].startswith("--seccomp-fd="):
        _install_seccomp(int(argv.pop(0).partition("=")[2]))
    here = os.getcwd()  # the submission's folder, holding cs231n_lec7/
    script = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [here] + [p for p in sys.path if p and os.path.abspath(p) not in (here, script)] + argv
    serve(proto_in, proto_out)


if __name__ == "__main__":
    main(sys.argv[1:])
