"""Plain data across the sandbox boundary: JSON with typed tags, never pickle.

What a student's function returns is decided in a process the grader does not trust, so what
crosses back must not be able to run code, fake equality or reach into the grader's stack. This
module encodes a value as JSON text and decodes it into exact builtin types and numpy arrays of
numeric dtype only: a ``str`` subclass with an ``__eq__`` that is always true arrives as a plain
``str``; an object with an ``__array__`` that walks the caller's frames arrives as an opaque
handle (if the far side sent one) that compares with nothing.

Tags (a JSON object whose only key set is the tag's):

* ``{"$tuple": [...]}``, ``{"$dict": [[k, v], ...]}`` (a dict whose keys are not all plain
  strings, or a key starts with ``$``);
* ``{"$nd": "<f8", "shape": [...], "b64": "..."}``: an ndarray of kind b, i, u, f or c (the
  byte count is checked against the shape);
* ``{"$np": "<f8", "b64": "..."}``: a numpy scalar of one of those kinds;
* ``{"$rng": "PCG64", "state": {...}}``: a ``numpy.random.Generator`` by its bit generator's
  state (so a test can check that a function left the generator it was given untouched);
* ``{"$float": "nan" | "inf" | "-inf"}``;
* ``{"$ref": N}``: whatever the encoding side could not send as data (a callable, an object),
  resolved by the receiving side's ``refs`` callback (the grader: a function it lent; the
  sandbox: an object it keeps, named by number).

It is self-contained (standard library and numpy): the grader copies this file into the
sandbox, which sees nothing else of the autograder.
"""
from __future__ import annotations

import base64
import json
import math

import numpy as np

MAX_BYTES = 64 * 2**20      # one message, encoded (the largest a test sends is under 1 MiB)
MAX_DEPTH = 64
NUMERIC_KINDS = "biufc"
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


class PlainDataError(ValueError):
    """The bytes are not plain data of the kinds this module allows."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text) -> bytes:
    if not isinstance(text, str):
        raise PlainDataError("expected base64 text")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise PlainDataError(f"invalid base64: {exc}") from None


def to_plain(obj, other=None, _depth: int = 0):
    """``obj`` as JSON-ready plain data; ``other(obj) -> int`` names what is not data (else it fails)."""
    if _depth > MAX_DEPTH:
        raise PlainDataError(f"nested deeper than {MAX_DEPTH} levels")
    d = _depth + 1
    if obj is None or type(obj) is bool:
        return obj
    if isinstance(obj, np.generic) and obj.dtype.kind in NUMERIC_KINDS:
        # before float: numpy.float64 is a subclass of float, and a test may ask which one it got
        return {"$np": obj.dtype.str, "b64": _b64(np.asarray(obj).tobytes())}
    if isinstance(obj, bool):
        return bool(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        x = float(obj)
        if math.isfinite(x):
            return x
        return {"$float": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}
    if isinstance(obj, str):
        return str.__str__(obj) if type(obj) is not str else obj
    if isinstance(obj, np.ndarray) and obj.dtype.kind in NUMERIC_KINDS:
        # (not ascontiguousarray: it makes a 0-d array 1-d)
        return {"$nd": obj.dtype.str, "shape": list(obj.shape), "b64": _b64(obj.tobytes(order="C"))}
    if isinstance(obj, tuple):
        return {"$tuple": [to_plain(v, other, d) for v in obj]}
    if isinstance(obj, list):
        return [to_plain(v, other, d) for v in obj]
    if isinstance(obj, dict):
        if all(type(k) is str and not k.startswith("$") for k in obj):
            return {k: to_plain(v, other, d) for k, v in obj.items()}
        return {"$dict": [[to_plain(k, other, d), to_plain(v, other, d)] for k, v in obj.items()]}
    if isinstance(obj, np.random.Generator):
        bg = obj.bit_generator
        name = type(bg).__name__
        if name in BIT_GENERATORS:
            return {"$rng": name, "state": to_plain(bg.state, other, d)}
    if other is not None:
        return {"$ref": int(other(obj))}
    raise PlainDataError(f"cannot send a {type(obj).__name__} as plain data")


def from_plain(data, refs=None, _depth: int = 0):
    """The value ``to_plain`` encoded, built from exact types; ``refs(n)`` resolves ``{"$ref": n}``."""
    if _depth > MAX_DEPTH:
        raise PlainDataError(f"nested deeper than {MAX_DEPTH} levels")
    d = _depth + 1
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [from_plain(v, refs, d) for v in data]
    if type(data) is not dict:
        raise PlainDataError(f"unexpected JSON value of type {type(data).__name__}")
    keys = set(data)
    if keys == {"$tuple"}:
        return tuple(from_plain(v, refs, d) for v in _list(data["$tuple"]))
    if keys == {"$dict"}:
        out = {}
        for pair in _list(data["$dict"]):
            if type(pair) is not list or len(pair) != 2:
                raise PlainDataError("a $dict entry must be a [key, value] pair")
            k = from_plain(pair[0], refs, d)
            try:
                hash(k)
            except TypeError:
                raise PlainDataError(f"unhashable dict key of type {type(k).__name__}") from None
            out[k] = from_plain(pair[1], refs, d)
        return out
    if keys == {"$float"}:
        v = data["$float"]
        if v not in ("nan", "inf", "-inf"):
            raise PlainDataError(f"unknown $float {v!r}")
        return float(v)
    if keys == {"$nd", "shape", "b64"}:
        dtype = _dtype(data["$nd"])
        shape = _list(data["shape"])
        if not all(type(n) is int and n >= 0 for n in shape) or len(shape) > 32:
            raise PlainDataError(f"invalid shape {shape!r}")
        raw = _unb64(data["b64"])
        if len(raw) != math.prod(shape) * dtype.itemsize:
            raise PlainDataError(f"{len(raw)} bytes do not fill shape {tuple(shape)} of {dtype}")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if keys == {"$np", "b64"}:
        dtype = _dtype(data["$np"])
        raw = _unb64(data["b64"])
        if len(raw) != dtype.itemsize:
            raise PlainDataError(f"{len(raw)} bytes are not one {dtype}")
        return np.frombuffer(raw, dtype=dtype)[0]
    if keys == {"$rng", "state"}:
        name = data["$rng"]
        if name not in BIT_GENERATORS:
            raise PlainDataError(f"unknown bit generator {name!r}")
        bg = getattr(np.random, name)()
        try:
            bg.state = from_plain(data["state"], None, d)
        except (TypeError, ValueError, KeyError) as exc:
            raise PlainDataError(f"invalid {name} state: {exc}") from None
        return np.random.Generator(bg)
    if keys == {"$ref"}:
        n = data["$ref"]
        if type(n) is not int or refs is None:
            raise PlainDataError("a $ref this side cannot resolve")
        return refs(n)
    if any(k.startswith("$") for k in keys):
        raise PlainDataError(f"unknown tag in {sorted(keys)}")
    return {k: from_plain(v, refs, d) for k, v in data.items()}


def _list(v) -> list:
    if type(v) is not list:
        raise PlainDataError(f"expected a list, got {type(v).__name__}")
    return v


def _dtype(text) -> np.dtype:
    if not isinstance(text, str) or len(text) > 8:
        raise PlainDataError(f"invalid dtype {text!r}")
    try:
        dtype = np.dtype(text)
    except TypeError:
        raise PlainDataError(f"invalid dtype {text!r}") from None
    if dtype.kind not in NUMERIC_KINDS or dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise PlainDataError(f"dtype {dtype} is not numeric")
    return dtype


def dumps(obj, other=None) -> bytes:
    text = json.dumps(to_plain(obj, other), separators=(",", ":"), allow_nan=False).encode("utf-8")
    if len(text) > MAX_BYTES:
        raise PlainDataError(f"{len(text)} bytes is more than one message may hold ({MAX_BYTES})")
    return text


def loads(raw: bytes, refs=None):
    if len(raw) > MAX_BYTES:
        raise PlainDataError(f"{len(raw)} bytes is more than one message may hold ({MAX_BYTES})")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise PlainDataError(f"not plain data: {type(exc).__name__}: {str(exc)[:200]}") from None
    return from_plain(data, refs)


def _no_constant(name):
    raise PlainDataError(f"bare {name} is not allowed (floats that are not finite are tagged)")


# ---------------------------------------------------------------------------- framing on a stream socket
def send(sock, message: dict, other=None) -> None:
    """One message: 8-byte big-endian length, then its plain-data JSON."""
    body = dumps(message, other)
    sock.sendall(len(body).to_bytes(8, "big") + body)


def recv(sock, refs=None) -> dict:
    """The next message (ConnectionError when the other side went away, PlainDataError when it is not data)."""
    n = int.from_bytes(_read(sock, 8), "big")
    if n > MAX_BYTES:
        raise PlainDataError(f"a message of {n} bytes is more than one message may hold ({MAX_BYTES})")
    msg = loads(_read(sock, n), refs)
    if type(msg) is not dict:
        raise PlainDataError("a message must be a JSON object")
    return msg


def _read(sock, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise ConnectionError("the other side closed the connection")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
