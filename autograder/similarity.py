"""Similarity of student solutions, at the level of the syntax tree (in the spirit of MOSS).

The autograder uses it to point the instructor at solution cells that look copied — from the
``dlcore`` reference implementation, or from another student of the same batch — even when the
copy renamed the variables, was reformatted, or had its comments and docstrings rewritten.

How a source is compared:

1. :func:`normalized_tokens` parses the cell (IPython ``%magic`` / ``!shell`` lines dropped)
   and walks its syntax tree. Comments, docstrings, type annotations and ``pass`` disappear;
   every name the code binds becomes ``V0``, ``V1``, ... and every function or class it
   defines ``F0``, ``F1``, ... (in order of first appearance); attribute names, keyword
   argument names and free names (``np``, ``range``, imported helpers) are kept, so
   ``np.mean`` stays ``np.mean``; numbers become ``NUM`` and strings ``STR``.
2. :func:`fingerprints` hashes every k-gram of that sequence and keeps the minimum of each
   window of consecutive hashes (winnowing, Schleimer, Wilkerson and Aiken, SIGMOD 2003):
   any stretch of ``k + window - 1`` (= 8) tokens that two sources share gives them at least
   one common fingerprint. The canonical *numbers* of ``V``/``F`` tokens are not hashed
   (``V3`` is hashed as ``V``): with them, one extra variable near the top of a copy would
   renumber every later name and change every fingerprint after it.
3. :func:`similarity` is the Jaccard index of the two fingerprint sets, |A ∩ B| / |A ∪ B|.
   Jaccard rather than containment (|A ∩ B| / min(|A|, |B|)) because containment rates a short
   honest solution against any long one that happens to include its few common phrases (the
   signature the notebook hands out, ``np.zeros(...)``, a ``for`` over ``range``) as a copy.
   A copy that was padded with extra code scores lower under Jaccard, but still well above
   honest pairs (see ``tests/test_similarity.py``).

**Short sources are never flagged.** A source with fewer than :data:`MIN_TOKENS` normalized
tokens scores 0.0 against everything: honest three-line solutions of the same exercise
(``return float(np.mean((pred - target) ** 2))``) are the same code, and nothing can be read into
their match. A match is a reason to look at two solutions side by side, never proof of copying.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import html
import importlib
import inspect
import os
import re
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "MIN_TOKENS", "THRESHOLD", "Match", "normalized_tokens", "fingerprints", "similarity",
    "function_source", "compare_with_references", "compare_class", "write_report",
]

# Below this many normalized tokens a source is never flagged. A statement costs about 6-13
# tokens (``total = np.sum(diff ** 2)`` is Assign V0 Call np .sum BinOp V1 Pow NUM: 8), so 40
# is a def line and three or four statements. Measured on the course's own solution cells: the
# one-formula exercises (ch01 mse_loss 35, mse_loss_grad 34, sigmoid_bce_grad_z 34, ch03
# sigmoid_grad 37, relu_grad 18, ch06 dropout backward and l2 grad 9 tokens) fall below it --
# every honest solution of them is the same two or three lines, signature included -- while
# softmax (42), dropout forward (44) and everything with a loop or several steps (bn backward
# 100, conv forward 177, conv backward 250) are above.
MIN_TOKENS: int = 40

# Default similarity at or above which a pair is reported. Measured in tests/test_similarity.py:
# renamed, reformatted, re-commented copies of the references score 1.0, a copy with a dummy
# variable added and a call dropped 0.93; independent implementations score 0.02-0.26 against
# the references, and the 29 honest synthetic students of the class test at most 0.57 against
# each other (median 0.21). 0.8 leaves room on both sides.
THRESHOLD: float = 0.8

_K = 5
_WINDOW = 4
_BLOCK = 4096  # fingerprint columns per block of compare_class's matrix product

_MAGIC = re.compile(r"^\s*(%|!(?!=))")
_CANON = re.compile(r"^[VF]\d+$")
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_SKIP_FIELDS = {"annotation", "returns", "type_comment", "type_params", "ctx", "kind"}
# Nodes that bind or define a name held in a string field (the field's name).
_NAMED = {ast.FunctionDef: "name", ast.AsyncFunctionDef: "name", ast.ClassDef: "name",
          ast.ExceptHandler: "name", ast.MatchAs: "name", ast.MatchStar: "name",
          ast.MatchMapping: "rest", ast.Global: "names", ast.Nonlocal: "names"}


# ----------------------------------------------------------------------------------------
# Tokens
# ----------------------------------------------------------------------------------------

def _parse(source: str) -> ast.AST | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError, TypeError):
        pass
    # IPython lines (%timeit, %%time, !pip ...) are not Python: drop them and try again. Only on
    # a failed parse, so a continuation line of valid code that starts with "%" is kept.
    kept = [line for line in source.splitlines() if not _MAGIC.match(line)]
    try:
        return ast.parse(textwrap.dedent("\n".join(kept)))
    except (SyntaxError, ValueError, RecursionError, MemoryError, TypeError):
        return None


def _is_docstring(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str))


def _constant(value) -> str:
    if isinstance(value, bool) or value is None or value is Ellipsis:
        return repr(value)
    if isinstance(value, (int, float, complex)):
        return "NUM"
    return "STR"  # str, bytes


def normalized_tokens(source: str) -> list[str]:
    """The normalized token sequence of a Python source (a notebook cell); [] if it does not parse.

    IPython magic lines (starting with ``%`` or ``!``) are dropped. Docstrings (and any other
    statement that is only a string), comments, type annotations and ``pass`` statements are
    dropped. Every local/parameter/global name the code binds becomes ``V0``, ``V1``, ... and
    every function/class it defines ``F0``, ``F1``, ..., numbered in order of first appearance;
    attribute names, keyword-argument names, imported names and builtins are kept as written
    (``np.mean`` stays ``np`` ``.mean``). Numbers become ``NUM``, strings and f-strings ``STR``;
    ``True``/``False``/``None`` stay.

    The sequence is the syntax tree in pre-order: the node type of every statement and
    operation (``Assign``, ``For``, ``Call``, ``BinOp``, ``Sub``, ...), then its parts; a
    variable is one token (its canonical name, no ``Name`` node token), an attribute access is
    its object followed by ``.attr``, a keyword argument ``kw:name`` followed by its value.

    >>> normalized_tokens("def f(a, b):\\n    '''doc'''\\n    return np.mean(a - b)  # mse")
    ['FunctionDef', 'F0', 'V0', 'V1', 'Return', 'Call', 'np', '.mean', 'BinOp', 'V0', 'Sub', 'V1']
    """
    if not isinstance(source, str):
        return []
    tree = _parse(source)
    if tree is None:
        return []
    tokens: list[str] = []
    # Identifiers are resolved after the walk, once every name the code binds is known (a
    # function may read a global that is assigned further down): (position in tokens, name).
    pending: list[tuple[int, str]] = []
    bound: set[str] = set()
    defined: set[str] = set()
    # An explicit stack, not recursion: hostile cells can nest deeper than Python's recursion limit.
    stack: list[object] = [tree]
    pop, push, emit = stack.pop, stack.append, tokens.append
    while stack:
        node = pop()
        t = type(node)
        if t is str:
            emit(node)
        elif t is ast.Name:
            if type(node.ctx) is not ast.Load:
                bound.add(node.id)
            pending.append((len(tokens), node.id))
            emit("")
        elif t is ast.Constant:
            emit(_constant(node.value))
        elif t is ast.Attribute:
            push("." + node.attr)
            push(node.value)
        elif t is ast.keyword:
            emit(f"kw:{node.arg}" if node.arg else "kw:**")
            push(node.value)
        elif t is ast.arg:
            bound.add(node.arg)
            pending.append((len(tokens), node.arg))
            emit("")
        elif t is ast.JoinedStr:
            emit("STR")
        elif t is ast.Pass or (t is ast.Expr and _is_docstring(node)):
            continue
        elif t is ast.AnnAssign:
            if node.value is not None:  # "x: int" alone binds nothing
                emit("Assign")
                push(node.value)
                push(node.target)
        elif t is ast.alias:
            emit(node.name if node.asname is None else f"{node.name} as {node.asname}")
        elif t in _NAMED:
            # def/class, global/nonlocal, except ... as name, match binders: the node, its names
            # (as they appear in the text), then its parts.
            emit(t.__name__)
            names = node.names if t is ast.Global or t is ast.Nonlocal else [getattr(node, _NAMED[t])]
            for name in names:
                if name is None:
                    continue
                (defined if t in _DEFS else bound).add(name)
                pending.append((len(tokens), name))
                emit("")
            _push_children(node, push)
        else:
            if t is not ast.Module and t is not ast.arguments and t is not ast.Interactive:
                emit(t.__name__)
            _push_children(node, push)
    counts = {"V": 0, "F": 0}
    canonical: dict[str, str] = {}
    for pos, name in pending:
        if name in defined:
            prefix = "F"
        elif name in bound:
            prefix = "V"
        else:  # free: a builtin, an import, a helper the notebook defined elsewhere
            tokens[pos] = name
            continue
        key = prefix + name
        if key not in canonical:
            canonical[key] = f"{prefix}{counts[prefix]}"
            counts[prefix] += 1
        tokens[pos] = canonical[key]
    return tokens


def _push_children(node: ast.AST, push) -> None:
    children: list[ast.AST] = []
    for field in node._fields:
        if field in _SKIP_FIELDS:
            continue
        value = getattr(node, field, None)
        if isinstance(value, ast.AST):
            children.append(value)
        elif type(value) is list:
            children.extend(v for v in value if isinstance(v, ast.AST))
        elif type(value) is str and field == "module":  # ImportFrom: the module is kept
            children.append(value)
    for child in reversed(children):
        push(child)


# ----------------------------------------------------------------------------------------
# Fingerprints and the score
# ----------------------------------------------------------------------------------------

_TOKEN_HASHES: dict[str, int] = {}
_BASE = np.uint64(0x100000001B3)  # an odd 64-bit multiplier (FNV's prime)


def _token_hash(token: str) -> int:
    """64-bit BLAKE2b of a token: the same in every process (unlike the salted ``hash()``)."""
    h = _TOKEN_HASHES.get(token)
    if h is None:
        if len(_TOKEN_HASHES) > 200_000:  # identifiers are kept, so the vocabulary is unbounded
            _TOKEN_HASHES.clear()
        h = int.from_bytes(hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")
        _TOKEN_HASHES[token] = h
    return h


def _gram_hashes(tokens: list[str], k: int) -> np.ndarray:
    """The hash of every k-gram: a polynomial (Karp-Rabin) over the token hashes, mod 2**64, then
    the splitmix64 finaliser so that every bit depends on every token of the gram."""
    h = np.fromiter((_token_hash(t) for t in tokens), dtype=np.uint64, count=len(tokens))
    n = len(tokens) - k + 1
    g = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            g = g * _BASE + h[j:j + n]
        g ^= g >> np.uint64(30)
        g *= np.uint64(0xBF58476D1CE4E5B9)
        g ^= g >> np.uint64(27)
        g *= np.uint64(0x94D049BB133111EB)
        g ^= g >> np.uint64(31)
    return g


def fingerprints(tokens: list[str], k: int = _K, window: int = _WINDOW) -> set[int]:
    """Winnowed fingerprints (Schleimer, Wilkerson, Aiken 2003) of a token sequence.

    Every k-gram of ``tokens`` is hashed to 64 bits, the same value in every process (unlike the
    salted ``hash()``): a Karp-Rabin polynomial over the tokens' BLAKE2b hashes, mixed by the
    splitmix64 finaliser, computed with numpy for all k-grams at once. Of each ``window``
    consecutive hashes the minimum is kept. Any run of ``k + window - 1`` tokens two sequences share gives
    them a common fingerprint. ``V``/``F`` tokens are hashed without their canonical number
    (``V3`` as ``V``), so inserting a variable does not change the fingerprints far from it.
    Fewer than ``k`` tokens: no fingerprints; fewer than ``window`` k-grams: the smallest hash.
    """
    if k < 1 or window < 1:
        raise ValueError(f"fingerprints: k and window must be >= 1, got k={k}, window={window}")
    plain = [t[0] if _CANON.match(t) else t for t in tokens]
    if len(plain) < k:
        return set()
    hashes = _gram_hashes(plain, k)
    if len(hashes) <= window:
        return {int(hashes.min())}
    # The minimum of every window (which of several equal minima is kept does not matter: the
    # set of selected values is the same).
    return set(np.lib.stride_tricks.sliding_window_view(hashes, window).min(axis=1).tolist())


def _score(common: int, size_a: int, size_b: int) -> float:
    union = size_a + size_b - common
    return common / union if union else 0.0


def _prints(source: str) -> set[int] | None:
    """Fingerprints of a source, or None when it is too short to be judged (< MIN_TOKENS)."""
    tokens = normalized_tokens(source)
    if len(tokens) < MIN_TOKENS:
        return None
    return fingerprints(tokens)


def similarity(a: str, b: str) -> float:
    """Jaccard index |A ∩ B| / |A ∪ B| of the winnowed fingerprints of two sources, in [0, 1].

    Symmetric; 1.0 for sources that differ only in names, layout, comments, docstrings and
    annotations; 0.0 when either source has fewer than :data:`MIN_TOKENS` normalized tokens
    (short solutions all look alike) or does not parse.
    """
    pa, pb = _prints(a), _prints(b)
    if not pa or not pb:
        return 0.0
    return _score(len(pa & pb), len(pa), len(pb))


# ----------------------------------------------------------------------------------------
# References
# ----------------------------------------------------------------------------------------

def function_source(qualname: str) -> str | None:
    """Source text (dedented) of a ``dlcore`` function, class or method by qualified name.

    ``'dlcore.losses.mse_loss'``, ``'dlcore.optim.Adam.step'``, ``'dlcore.conv.conv2d_backward'``.
    None when the name is not under ``dlcore``, does not resolve, resolves to something defined
    outside ``dlcore`` (``dlcore.conv.np.mean``), or has no source. Never raises.
    Only ``dlcore`` names are imported: a name is never a way to import arbitrary modules.
    """
    try:
        if not isinstance(qualname, str):
            return None
        parts = qualname.split(".")
        if parts[0] != "dlcore" or not all(p.isidentifier() for p in parts):
            return None
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for attr in parts[cut:]:
                obj = inspect.getattr_static(obj, attr) if inspect.isclass(obj) else getattr(obj, attr)
                if isinstance(obj, (staticmethod, classmethod)):
                    obj = obj.__func__
                elif isinstance(obj, property):
                    obj = obj.fget
            if isinstance(obj, (staticmethod, classmethod)):
                obj = obj.__func__
            obj = inspect.unwrap(obj)
            home = obj.__name__ if inspect.ismodule(obj) else getattr(obj, "__module__", None)
            if not isinstance(home, str) or not (home == "dlcore" or home.startswith("dlcore.")):
                return None  # e.g. 'dlcore.conv.np.mean': numpy's code, reached through an import
            return textwrap.dedent(inspect.getsource(obj))
        return None
    except Exception:  # not found, no source (builtins, C code), ... : None, as documented
        return None


@functools.lru_cache(maxsize=256)
def _reference(qualname: str) -> tuple[str | None, frozenset[int] | None]:
    """(source, fingerprints) of a reference, computed once per process for a whole class."""
    ref = function_source(qualname)
    prints = _prints(ref) if ref is not None else None
    return ref, (frozenset(prints) if prints else None)


@dataclass
class Match:
    kind: str          # "reference" or "student"
    exercise: str      # the nbgrader grade_id of the solution cell, e.g. "ch07-conv-impl"
    a: str             # student id
    b: str             # other student id, or the reference qualname
    score: float
    source_a: str
    source_b: str


def compare_with_references(student: str, exercise: str, source: str, references: list[str],
                            threshold: float = THRESHOLD) -> list[Match]:
    """Matches (score >= threshold) of one solution against ``dlcore`` reference qualnames.

    Each reference's source comes from :func:`function_source`; a name without a source is
    skipped. Sorted by score, highest first, then by qualname.
    """
    mine = _prints(source)
    if not mine:
        return []
    found: list[Match] = []
    for qualname in dict.fromkeys(references):
        if not isinstance(qualname, str):
            continue
        ref, theirs = _reference(qualname)
        if not theirs:
            continue
        score = _score(len(mine & theirs), len(mine), len(theirs))
        if score >= threshold:
            found.append(Match("reference", exercise, student, qualname, score, source, ref))
    found.sort(key=lambda m: (-m.score, m.b))
    return found


def compare_class(solutions: dict[str, dict[str, str]], threshold: float = THRESHOLD) -> list[Match]:
    """Pairs of students whose solutions of the same exercise score >= threshold.

    ``solutions`` maps student -> {exercise grade_id -> source}. Each source is fingerprinted
    once; a source shorter than :data:`MIN_TOKENS` tokens or one that does not parse takes no
    part. Per exercise, an inverted index (fingerprint -> column) turns the fingerprint sets
    into a 0/1 matrix of the students' fingerprints shared with at least one other student;
    matrix products then count the common fingerprints of every pair at once (no Python loop
    over the n*(n-1)/2 pairs). The score of a pair is exactly :func:`similarity` of the two
    sources. Sorted by score (highest first), then exercise, then student ids; in each match
    ``a < b``.
    """
    by_exercise: dict[str, list[tuple[str, str, set[int]]]] = {}
    for student in sorted(solutions):
        for exercise, source in solutions[student].items():
            prints = _prints(source)
            if prints:
                by_exercise.setdefault(exercise, []).append((student, source, prints))
    found: list[Match] = []
    for exercise, entries in by_exercise.items():
        if len(entries) < 2:
            continue
        frequency: dict[int, int] = {}
        for _, _, prints in entries:
            for fp in prints:
                frequency[fp] = frequency.get(fp, 0) + 1
        # Fingerprints only one student has cannot be shared: they stay out of the matrix (most
        # of an honest class's fingerprints), and only count in the sizes.
        column = {fp: i for i, fp in enumerate(fp for fp, n in frequency.items() if n > 1)}
        rows_of, cols_of = [], []
        for row, (_, _, prints) in enumerate(entries):
            cols = [column[fp] for fp in prints if fp in column]
            rows_of.extend([row] * len(cols))
            cols_of.extend(cols)
        rows_of, cols_of = np.array(rows_of, dtype=np.int64), np.array(cols_of, dtype=np.int64)
        # common[i, j] = fingerprints students i and j share: M @ M.T for the 0/1 matrix M of
        # students x shared fingerprints, a block of columns at a time to bound the memory.
        n = len(entries)
        common = np.zeros((n, n), dtype=np.int64)
        for lo in range(0, len(column), _BLOCK):
            pick = (cols_of >= lo) & (cols_of < lo + _BLOCK)
            block = np.zeros((n, min(_BLOCK, len(column) - lo)), dtype=np.float32)
            block[rows_of[pick], cols_of[pick] - lo] = 1.0
            common += np.rint(block @ block.T).astype(np.int64)  # exact: counts below 2**24
        sizes = np.array([len(prints) for _, _, prints in entries], dtype=np.int64)
        union = sizes[:, None] + sizes[None, :] - common
        scores = common / np.maximum(union, 1)
        # Candidates by the vectorised score (with a hair of slack), then each kept pair scored
        # exactly as similarity() scores it.
        scores[np.tril_indices(len(entries))] = -1.0
        rows, cols = np.nonzero(scores >= threshold - 1e-9)
        for i, j in zip(rows.tolist(), cols.tolist()):
            score = _score(int(common[i, j]), int(sizes[i]), int(sizes[j]))
            if score >= threshold:
                (sa, src_a, _), (sb, src_b, _) = entries[i], entries[j]
                found.append(Match("student", exercise, sa, sb, score, src_a, src_b))
    found.sort(key=lambda m: (-m.score, m.exercise, m.a, m.b))
    return found


# ----------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.7em; text-align: left; }
td.score { text-align: right; font-variant-numeric: tabular-nums; }
.pair { display: flex; gap: 1em; align-items: flex-start; }
.pair > div { flex: 1 1 0; min-width: 0; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 0.6em; overflow-x: auto;
      font-size: 0.85em; white-space: pre; }
.note { background: #fff8e0; border-left: 4px solid #e0b000; padding: 0.5em 1em; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def write_report(matches: list[Match], path: Path, title: str = "Similar solutions") -> None:
    """Write a static, self-contained HTML page (no script, no external resources) of the matches.

    A table of the pairs (kind, exercise, a, b, score) and, for each pair, the two sources side
    by side; every piece of student text is HTML-escaped. The page explains what the score is,
    :data:`MIN_TOKENS` and :data:`THRESHOLD`, and that a match is a reason to look, not proof.
    With no matches it says that no pair reached the threshold. Written atomically.
    """
    path = Path(path)
    note = (
        f"<p class='note'>The score is the share of code fingerprints two solutions have in common "
        f"(Jaccard index of winnowed 5-grams of the syntax tree, with variable names, layout, "
        f"comments and docstrings ignored). Pairs scoring at least {THRESHOLD:.2f} "
        f"(the default threshold) are listed. Solutions shorter than {MIN_TOKENS} normalized "
        f"tokens (a few lines) are never listed: honest short solutions of the same exercise are "
        f"the same code. <strong>A match is a reason to look at the two solutions, not proof of "
        f"copying</strong>: shared starter code, a formula written the way the notes write it, "
        f"or help from the same tutor can make independent work look alike.</p>"
    )
    parts = [
        "<!DOCTYPE html>", "<html lang='en'>", "<head>", "<meta charset='utf-8'>",
        f"<title>{_e(title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
        f"<h1>{_e(title)}</h1>", note,
    ]
    if not matches:
        parts.append("<p><strong>No pair reached the threshold.</strong></p>")
    else:
        parts.append(f"<p>{len(matches)} pair{'s' if len(matches) != 1 else ''}.</p>")
        parts.append("<table><thead><tr><th>#</th><th>kind</th><th>exercise</th><th>a</th>"
                     "<th>b</th><th>score</th></tr></thead><tbody>")
        for n, m in enumerate(matches, 1):
            parts.append(
                f"<tr><td><a href='#pair-{n}'>{n}</a></td><td>{_e(m.kind)}</td>"
                f"<td>{_e(m.exercise)}</td><td>{_e(m.a)}</td><td>{_e(m.b)}</td>"
                f"<td class='score'>{m.score:.3f}</td></tr>"
            )
        parts.append("</tbody></table>")
        for n, m in enumerate(matches, 1):
            parts.append(
                f"<section id='pair-{n}'><h2>{n}. {_e(m.exercise)}: {_e(m.a)} and {_e(m.b)} "
                f"({_e(m.kind)}), score {m.score:.3f}</h2><div class='pair'>"
                f"<div><h3>{_e(m.a)}</h3><pre>{_e(m.source_a)}</pre></div>"
                f"<div><h3>{_e(m.b)}</h3><pre>{_e(m.source_b)}</pre></div></div></section>"
            )
    parts += ["</body>", "</html>", ""]
    text = "\n".join(parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the report from a web server or a TA
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
