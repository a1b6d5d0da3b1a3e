"""autograder.similarity: copies of the references and of classmates are found, honest work is not."""
from __future__ import annotations

import ast
import builtins
import doctest
import keyword
import random
import textwrap

import pytest
from hypothesis import given, settings, strategies as st

from autograder import similarity as sim
from autograder.similarity import (
    MIN_TOKENS,
    THRESHOLD,
    Match,
    compare_class,
    compare_with_references,
    fingerprints,
    function_source,
    normalized_tokens,
    similarity,
    write_report,
)

# ---------------------------------------------------------------- helpers: how a copier disguises code


class _Rename(ast.NodeTransformer):
    """Rename bound names (variables, parameters, defined functions) by a mapping; attributes stay."""

    def __init__(self, mapping: dict[str, str]):
        self.mapping = mapping

    def visit_Name(self, node):
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.mapping.get(node.arg, node.arg)
        node.annotation = None
        return node

    def visit_FunctionDef(self, node):
        node.name = self.mapping.get(node.name, node.name)
        node.returns = None
        self.generic_visit(node)
        return node


def bound_names(source: str) -> list[str]:
    tree = ast.parse(source)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
    return sorted(names)


def disguise(source: str, seed: int) -> str:
    """What a student does to a copy: new names, new docstring, reformatted, own comments."""
    rng = random.Random(seed)
    names = bound_names(source)
    fresh = [f"{rng.choice(['my', 'tmp', 'val', 'arr', 'res'])}_{i}_{rng.randrange(1000)}" for i in range(len(names))]
    tree = _Rename(dict(zip(names, fresh))).visit(ast.parse(source))
    fn = tree.body[0]
    fn.body[0] = ast.Expr(ast.Constant("My own implementation, written from scratch!"))
    lines = ast.unparse(tree).splitlines()  # re-layout: one statement a line, no comments, new quotes
    out = []
    for i, line in enumerate(lines):
        if i % 3 == 1:
            out.append(" " * (len(line) - len(line.lstrip())) + f"# step {i}: see lecture notes")
        out.append(line + ("  # careful here" if i % 5 == 4 else ""))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- honest implementations (written for these tests)

HONEST_CONV_BACKWARD = '''
def conv_backward(dout, cache):
    """Backward pass of a convolution: vectorised with sliding windows."""
    x, w = cache.x, cache.w
    sh, sw = cache.stride
    ph, pw = cache.padding
    kh, kw = w.shape[2:]
    xp = np.pad(x, [(0, 0), (0, 0), (ph, ph), (pw, pw)])
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    dw = np.einsum("nfij,ncijab->fcab", dout, win)
    db = dout.sum(axis=(0, 2, 3)) if cache.has_bias else None
    dxp = np.zeros(xp.shape)
    oh, ow = dout.shape[2], dout.shape[3]
    for a in range(kh):
        for b in range(kw):
            contrib = np.einsum("nfij,fc->ncij", dout, w[:, :, a, b])
            dxp[:, :, a:a + sh * oh:sh, b:b + sw * ow:sw] += contrib
    dx = dxp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]]
    return dx, dw, db
'''

HONEST_CONV_BACKWARD_LOOPS = '''
def conv_backward(dout, cache):
    """Backward pass as loops, scattering every output gradient back onto its window."""
    x, w = cache.x, cache.w
    stride_h, stride_w = cache.stride
    pad_h, pad_w = cache.padding
    n_img, n_ch, height, width = x.shape
    n_filt, _, k_h, k_w = w.shape
    out_h, out_w = dout.shape[2:]
    padded = np.zeros((n_img, n_ch, height + 2 * pad_h, width + 2 * pad_w))
    padded[:, :, pad_h:pad_h + height, pad_w:pad_w + width] = x
    grad_padded = np.zeros_like(padded)
    grad_w = np.zeros(w.shape)
    grad_b = np.zeros(n_filt)
    for img in range(n_img):
        for row in range(out_h):
            for col in range(out_w):
                top, left = row * stride_h, col * stride_w
                patch = padded[img, :, top:top + k_h, left:left + k_w]
                for filt in range(n_filt):
                    g = dout[img, filt, row, col]
                    grad_w[filt] = grad_w[filt] + g * patch
                    grad_padded[img, :, top:top + k_h, left:left + k_w] += g * w[filt]
                    grad_b[filt] += g
    grad_x = grad_padded[:, :, pad_h:pad_h + height, pad_w:pad_w + width]
    if not cache.has_bias:
        grad_b = None
    return grad_x, grad_w, grad_b
'''

HONEST_BN_BACKWARD = '''
def batchnorm_backward(dout, cache):
    """Backward through the computational graph, one node at a time (2-D input)."""
    x_centered, gamma, inv_std = cache.x_centered, cache.gamma, cache.inv_std
    n = dout.shape[0]
    x_hat = x_centered * inv_std
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * x_centered, axis=0) * -0.5 * inv_std ** 3
    dmu = -np.sum(dx_hat * inv_std, axis=0) + dvar * np.mean(-2.0 * x_centered, axis=0)
    dx = dx_hat * inv_std + dvar * 2.0 * x_centered / n + dmu / n
    return dx, dgamma, dbeta
'''

# The same 15-line algorithm twice, written by two people: loops, and vectorised.
POOL_LOOPS = '''
def maxpool_forward(x, size, stride):
    n, c, h, w = x.shape
    oh = (h - size) // stride + 1
    ow = (w - size) // stride + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(n):
        for ch in range(c):
            for r in range(oh):
                for q in range(ow):
                    block = x[i, ch, r * stride:r * stride + size, q * stride:q * stride + size]
                    out[i, ch, r, q] = np.max(block)
    return out
'''

POOL_VECTORIZED = '''
def max_pool(images, k, s):
    rows = 1 + (images.shape[2] - k) // s
    cols = 1 + (images.shape[3] - k) // s
    views = np.lib.stride_tricks.sliding_window_view(images, (k, k), axis=(2, 3))
    views = views[:, :, ::s, ::s]
    assert views.shape[2] == rows and views.shape[3] == cols
    result = views.max(axis=(-2, -1))
    return result.astype(images.dtype)
'''

REFERENCES = ["dlcore.conv.conv2d_backward", "dlcore.conv.conv2d_backward_loops",
              "dlcore.batchnorm.batch_norm_backward"]


# ---------------------------------------------------------------- normalized_tokens


def test_tokens_of_a_small_function():
    src = '''
def f(pred: np.ndarray, target) -> float:
    """A docstring."""
    # a comment
    pass
    diff = pred - target
    return float(np.mean(diff ** 2, axis=0))
'''
    assert normalized_tokens(src) == [
        "FunctionDef", "F0", "V0", "V1",
        "Assign", "V2", "BinOp", "V0", "Sub", "V1",
        "Return", "Call", "float", "Call", "np", ".mean", "BinOp", "V2", "Pow", "NUM", "kw:axis", "NUM",
    ]


def test_the_module_examples_run():
    result = doctest.testmod(sim)
    assert result.attempted >= 1 and result.failed == 0


def test_comments_docstrings_annotations_layout_and_names_do_not_count():
    a = '''
def loss(p, t):
    d = p - t
    return (d * d).sum() / d.size
'''
    b = '''
def   my_loss( prediction : "np.ndarray",
               truth ) :
    """Computes the loss."""
    # difference first
    delta = (prediction -
             truth)   # elementwise
    'a string statement used as a comment'
    return ( delta*delta ).sum( ) / delta.size
'''
    assert normalized_tokens(a) == normalized_tokens(b)
    assert normalized_tokens(a) != normalized_tokens(a.replace("d.size", "d.shape"))  # attributes count
    assert normalized_tokens(a) != normalized_tokens(a.replace("p - t", "t - p"))      # order counts


def test_names_are_numbered_in_order_of_first_appearance_and_free_names_are_kept():
    tokens = normalized_tokens("def g(x):\n    y = helper(x, 'label', 2.5)\n    return np.exp(y) + len(x)\n")
    assert tokens == ["FunctionDef", "F0", "V0", "Assign", "V1", "Call", "helper", "V0", "STR", "NUM",
                      "Return", "BinOp", "Call", "np", ".exp", "V1", "Add", "Call", "len", "V0"]
    # a builtin the code rebinds is a variable like any other
    assert normalized_tokens("sum = 0\nfor v in xs:\n    sum = sum + v\n")[:2] == ["Assign", "V0"]


def test_ipython_magics_are_dropped():
    code = "def f(a):\n    return a + 1\n"
    cell = "%matplotlib inline\n!pip install numpy\n%%time\n" + code + "%timeit f(3)\n"
    assert normalized_tokens(cell) == normalized_tokens(code) != []
    # a continuation line of valid code that starts with "%" or "!=" is code, not a magic
    assert "Mod" in normalized_tokens("y = (a\n     % b)\n")
    assert "NotEq" in normalized_tokens("ok = (a\n      != b)\n")


@pytest.mark.parametrize("bad", ["def f(:\n    return 1\n", "x = = 2", "\x00", "(" * 500, "%%time\n",
                                 "", "   ", "if True:\nprint(1)", "return return", 42, None])
def test_unparsable_source_is_empty_and_harmless(bad):
    assert normalized_tokens(bad) == []
    assert similarity(bad, HONEST_CONV_BACKWARD) == 0.0
    assert compare_with_references("s1", "ch08-convback-impl", bad, REFERENCES) == []


def test_deeply_nested_source_does_not_crash():
    deep = "x = " + " + ".join(["1"] * 20000) + "\n"
    tokens = normalized_tokens(deep)  # parses or not, but never raises RecursionError
    assert tokens == [] or tokens[:2] == ["Assign", "V0"]


IDENT = st.from_regex(r"[a-z][a-z0-9_]{2,8}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s) and not hasattr(builtins, s) and s not in {"np", "cache"})


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), data=st.data())
def test_renaming_bound_names_consistently_never_changes_the_tokens(seed, data):
    src = textwrap.dedent([HONEST_CONV_BACKWARD, HONEST_BN_BACKWARD, POOL_LOOPS, POOL_VECTORIZED][seed % 4])
    names = bound_names(src)
    fresh = data.draw(st.lists(IDENT, min_size=len(names), max_size=len(names), unique=True))
    renamed = ast.unparse(_Rename(dict(zip(names, fresh))).visit(ast.parse(src)))
    assert normalized_tokens(renamed) == normalized_tokens(src)


# ---------------------------------------------------------------- fingerprints


def test_fingerprints_are_deterministic_winnowed_and_insensitive_to_canonical_numbers():
    tokens = normalized_tokens(textwrap.dedent(HONEST_CONV_BACKWARD))
    fps = fingerprints(tokens)
    assert fps == fingerprints(list(tokens))
    n_grams = len(tokens) - 5 + 1
    # winnowing keeps at least one hash per window of 4 and far fewer than all k-grams
    assert n_grams / 4 <= len(fps) < n_grams
    assert len(fingerprints(tokens, k=5, window=1)) > len(fps)
    assert fingerprints(tokens[:4]) == set()
    assert len(fingerprints(tokens[:6])) == 1
    shifted = [f"V{int(t[1:]) + 7}" if t[0] == "V" and t[1:].isdigit() else t for t in tokens]
    assert fingerprints(shifted) == fps
    # pinned values: the hash is the same in every process (a salted hash() would not be) ...
    assert fingerprints(["Assign", "V0", "Call", "np", ".zeros"]) == {16523982576480630204}
    assert fingerprints("a b c d e f g h i".split()) == {1985841417975746169, 8796684645426709740}
    # ... and ignores the canonical numbers, not the kind of token
    assert fingerprints(["Assign", "V9", "Call", "np", ".zeros"]) == {16523982576480630204}
    assert fingerprints(["Assign", "F0", "Call", "np", ".zeros"]) != {16523982576480630204}
    with pytest.raises(ValueError):
        fingerprints(tokens, k=0)


def test_shared_run_of_k_plus_window_minus_one_tokens_always_gives_a_common_fingerprint():
    rng = random.Random(3)
    vocab = [f"T{i}" for i in range(40)]
    for _ in range(200):
        shared = [rng.choice(vocab) for _ in range(8)]  # k + window - 1 = 8
        a = [rng.choice(vocab) for _ in range(rng.randrange(0, 30))] + shared + [rng.choice(vocab) for _ in range(rng.randrange(0, 30))]
        b = [rng.choice(vocab) for _ in range(rng.randrange(0, 30))] + shared + [rng.choice(vocab) for _ in range(rng.randrange(0, 30))]
        assert fingerprints(a) & fingerprints(b)


# ---------------------------------------------------------------- references


def test_function_source_finds_functions_and_methods_and_never_raises():
    assert function_source("dlcore.losses.mse_loss").startswith("def mse_loss(")
    assert function_source("dlcore.conv.conv2d_backward").startswith("def conv2d_backward(")
    step = function_source("dlcore.optim.Adam.step")  # inherited from Optimizer, dedented
    assert step.startswith("def step(self") and "state_names" in step
    assert function_source("dlcore.batchnorm.BatchNormCache.x_hat").lstrip().startswith("@property")
    for missing in ["dlcore.conv.no_such_function", "dlcore.nosuchmodule.f", "dlcore.optim.Adam.nope",
                    "os.system", "numpy.mean", "", "dlcore..conv", "dlcore.conv.np.mean", None, 3]:
        assert function_source(missing) is None, missing


@pytest.mark.parametrize("qualname", REFERENCES)
def test_disguised_copy_of_a_reference_is_reported(qualname):
    ref = function_source(qualname)
    copy = disguise(ref, seed=len(qualname))
    assert copy != ref and "careful here" in copy and "from scratch" in copy
    assert not set(bound_names(ref)) & set(bound_names(copy))  # every variable was renamed
    assert len(normalized_tokens(ref)) >= MIN_TOKENS
    score = similarity(copy, ref)
    assert score >= 0.9
    assert score == similarity(ref, copy)
    matches = compare_with_references("s17", "ch08-convback-impl", copy, REFERENCES)
    assert [m.b for m in matches][:1] == [qualname]
    m = matches[0]
    assert (m.kind, m.exercise, m.a, m.score, m.source_a, m.source_b) == (
        "reference", "ch08-convback-impl", "s17", score, copy, ref)


def test_copy_with_an_inserted_variable_and_a_dropped_check_still_matches():
    ref = function_source("dlcore.conv.conv2d_backward_loops")
    lines = disguise(ref, seed=5).splitlines()
    body_start = next(i for i, l in enumerate(lines) if "from scratch" in l) + 1
    # a dummy variable at the top renumbers every later name in normalized_tokens ...
    lines.insert(body_start, "    unused_eps = 1e-12")
    # ... and the copier drops the final cleanup
    lines = [l.replace("np.ascontiguousarray(", "(") for l in lines]
    copy = "\n".join(lines)
    assert normalized_tokens(copy)[4:8] != normalized_tokens(ref)[4:8]
    assert similarity(copy, ref) >= THRESHOLD


def test_honest_implementations_are_not_reported():
    conv_ref = function_source("dlcore.conv.conv2d_backward_loops")
    bn_ref = function_source("dlcore.batchnorm.batch_norm_backward")
    for honest, ref in [(HONEST_CONV_BACKWARD, conv_ref), (HONEST_CONV_BACKWARD_LOOPS, conv_ref),
                        (HONEST_BN_BACKWARD, bn_ref)]:
        assert len(normalized_tokens(honest)) >= MIN_TOKENS  # long enough to be judged
        assert similarity(honest, ref) < 0.5
        assert compare_with_references("s3", "ch08-convback-impl", honest, REFERENCES) == []
    assert similarity(HONEST_CONV_BACKWARD, HONEST_CONV_BACKWARD_LOOPS) < 0.5
    # the same algorithm written by two people, as loops and vectorised
    assert min(len(normalized_tokens(POOL_LOOPS)), len(normalized_tokens(POOL_VECTORIZED))) >= MIN_TOKENS
    assert similarity(POOL_LOOPS, POOL_VECTORIZED) < 0.3
    # and the disguise itself does not make code similar: disguised honest code matches only itself
    assert similarity(disguise(HONEST_CONV_BACKWARD, 1), HONEST_CONV_BACKWARD) >= 0.9
    assert similarity(disguise(HONEST_CONV_BACKWARD, 1), conv_ref) < 0.5


def test_short_sources_never_match_even_when_identical():
    ref = function_source("dlcore.losses.mse_loss")
    tokens = normalized_tokens(ref)
    assert 0 < len(tokens) < MIN_TOKENS
    assert fingerprints(tokens)  # there would be something to compare: the size rule is what stops it
    assert similarity(ref, ref) == 0.0
    assert compare_with_references("s1", "ch01-mse_loss-impl", ref, ["dlcore.losses.mse_loss"], threshold=0.0) == []
    short = "def mse(p, t):\n    return float(np.mean((p - t) ** 2))\n"
    assert compare_class({f"s{i}": {"ch01-mse_loss-impl": short} for i in range(5)}, threshold=0.0) == []
    long_enough = textwrap.dedent(POOL_LOOPS)
    assert similarity(long_enough, long_enough) == 1.0


# ---------------------------------------------------------------- a class


_BLOCKS = [
    [  # shapes
        "    N, C, H, W = x.shape\n    F, _, KH, KW = w.shape\n",
        "    N = x.shape[0]\n    C = x.shape[1]\n    H, W = x.shape[2], x.shape[3]\n    F = w.shape[0]\n    KH = w.shape[2]\n    KW = w.shape[3]\n",
        "    N, C, H, W = x.shape\n    F, C2, KH, KW = w.shape\n    assert C == C2, 'channel mismatch'\n",
        "    (N, C, H, W), (F, KH, KW) = x.shape, (w.shape[0], w.shape[-2], w.shape[-1])\n",
    ],
    [  # padding
        "    xp = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))\n",
        "    xp = np.zeros((N, C, H + 2 * P, W + 2 * P))\n    xp[:, :, P:P + H, P:P + W] = x\n",
        "    if P > 0:\n        xp = np.pad(x, [(0, 0), (0, 0), (P, P), (P, P)], mode='constant')\n    else:\n        xp = x.copy()\n",
        "    xp = np.concatenate([np.zeros((N, C, P, W)), x, np.zeros((N, C, P, W))], axis=2)\n"
        "    xp = np.concatenate([np.zeros((N, C, H + 2 * P, P)), xp, np.zeros((N, C, H + 2 * P, P))], axis=3)\n",
    ],
    [  # output size
        "    OH = (H + 2 * P - KH) // S + 1\n    OW = (W + 2 * P - KW) // S + 1\n",
        "    OH = int((H - KH + 2 * P) / S) + 1\n    OW = int((W - KW + 2 * P) / S) + 1\n",
        "    OH = len(range(0, xp.shape[2] - KH + 1, S))\n    OW = len(range(0, xp.shape[3] - KW + 1, S))\n",
        "    OH, OW = [(n + 2 * P - k) // S + 1 for n, k in ((H, KH), (W, KW))]\n",
    ],
    [  # output array
        "    out = np.zeros((N, F, OH, OW))\n",
        "    out = np.zeros((N, F, OH, OW), dtype=x.dtype)\n",
        "    out = np.empty((N, F, OH, OW))\n    out.fill(0.0)\n",
        "    out = np.full((N, F, OH, OW), 0.0)\n",
    ],
    [  # the core
        "    for n in range(N):\n        for f in range(F):\n            for i in range(OH):\n                for j in range(OW):\n"
        "                    patch = xp[n, :, i * S:i * S + KH, j * S:j * S + KW]\n"
        "                    out[n, f, i, j] = np.sum(patch * w[f])\n",
        "    for i in range(OH):\n        for j in range(OW):\n            r, c = i * S, j * S\n"
        "            patch = xp[:, :, r:r + KH, c:c + KW]\n"
        "            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))\n",
        "    for n in range(N):\n        for i in range(OH):\n            for j in range(OW):\n"
        "                region = xp[n, :, i * S:i * S + KH, j * S:j * S + KW]\n"
        "                out[n, :, i, j] = (w * region[None]).sum(axis=(1, 2, 3))\n",
        "    cols = np.lib.stride_tricks.sliding_window_view(xp, (KH, KW), axis=(2, 3))[:, :, ::S, ::S]\n"
        "    out = out + np.einsum('ncijab,fcab->nfij', cols, w)\n",
        "    for a in range(KH):\n        for e in range(KW):\n"
        "            sl = xp[:, :, a:a + S * OH:S, e:e + S * OW:S]\n"
        "            out += np.einsum('ncij,fc->nfij', sl, w[:, :, a, e])\n",
    ],
    [  # bias and return
        "    if b is not None:\n        out += b.reshape(1, -1, 1, 1)\n    return out\n",
        "    if b is None:\n        return out\n    return out + b[None, :, None, None]\n",
        "    for f in range(F):\n        if b is not None:\n            out[:, f] = out[:, f] + b[f]\n    return out\n",
        "    bias = np.zeros(F) if b is None else np.asarray(b)\n    result = out + bias[np.newaxis, :, np.newaxis, np.newaxis]\n    return result\n",
    ],
]


def _variant(choice: tuple[int, ...]) -> str:
    src = "def conv_forward(x, w, b, S=1, P=0):\n    \"\"\"Convolution forward pass.\"\"\"\n"
    return src + "".join(block[c] for block, c in zip(_BLOCKS, choice))


def _synthetic_class(n_students: int = 30, seed: int = 7):
    """n students: two (s05, s23) hand in the same solution (s23 disguised), the rest differ in at
    least 3 of the 6 steps from every other student, with their own variable names and layout."""
    rng = random.Random(seed)
    choices: list[tuple[int, ...]] = []
    while len(choices) < n_students - (n_students > 23):
        c = tuple(rng.randrange(len(block)) for block in _BLOCKS)
        if all(sum(u != v for u, v in zip(c, d)) >= 3 for d in choices):
            choices.append(c)
    mse = "def mse_loss(pred, target):\n    return float(np.mean((pred - target) ** 2))\n"
    solutions: dict[str, dict[str, str]] = {}
    k = 0
    for i in range(n_students):
        student = f"s{i:02d}"
        if student == "s23":
            conv = disguise(solutions["s05"]["ch07-conv-impl"], seed=23)
        else:
            conv = disguise(_variant(choices[k]), seed=i)  # every student names and lays out differently
            k += 1
        solutions[student] = {"ch07-conv-impl": conv, "ch01-mse_loss-impl": mse.replace("pred", f"p{i}")}
    return solutions


def test_compare_class_finds_exactly_the_copied_pair():
    solutions = _synthetic_class()
    assert len(solutions) == 30
    matches = compare_class(solutions)
    assert [(m.kind, m.exercise, m.a, m.b) for m in matches] == [("student", "ch07-conv-impl", "s05", "s23")]
    assert matches[0].score >= 0.9
    assert matches[0].source_a == solutions["s05"]["ch07-conv-impl"]
    assert matches[0].source_b == solutions["s23"]["ch07-conv-impl"]
    # everyone else, pair by pair, stays well below the threshold
    prints = {s: fingerprints(normalized_tokens(v["ch07-conv-impl"])) for s, v in solutions.items()}
    honest = [len(prints[a] & prints[b]) / len(prints[a] | prints[b])
              for a in prints for b in prints if a < b and (a, b) != ("s05", "s23")]
    assert max(honest) < THRESHOLD


@pytest.mark.parametrize("block", [sim._BLOCK, 7])  # 7: many column blocks, uneven last one
def test_compare_class_scores_are_exactly_the_pairwise_similarities(block, monkeypatch):
    monkeypatch.setattr(sim, "_BLOCK", block)
    solutions = _synthetic_class(n_students=12, seed=2)
    solutions["s99"] = {"ch07-conv-impl": "def broken(:\n"}  # unparsable: skipped, no crash
    solutions["s98"] = {}                                      # handed in nothing
    got = {(m.exercise, m.a, m.b): m.score for m in compare_class(solutions, threshold=0.0)}
    want = {}
    students = sorted(solutions)
    for ex in ["ch07-conv-impl", "ch01-mse_loss-impl"]:
        for i, a in enumerate(students):
            for b in students[i + 1:]:
                sa, sb = solutions[a].get(ex), solutions[b].get(ex)
                if sa is None or sb is None:
                    continue
                if min(len(normalized_tokens(sa)), len(normalized_tokens(sb))) < MIN_TOKENS:
                    continue
                want[(ex, a, b)] = similarity(sa, sb)
    assert len(want) == 12 * 11 // 2 and got == want
    ordered = compare_class(solutions, threshold=0.3)
    assert [m.score for m in ordered] == sorted((m.score for m in ordered), reverse=True)
    assert {(m.exercise, m.a, m.b) for m in ordered} == {k for k, v in want.items() if v >= 0.3}
    assert all(m.a < m.b for m in ordered)


def test_compare_class_on_a_larger_class_finds_every_pair_that_shares_a_solution():
    # 80 students x 5 exercises, each solution one of 40 bases (plus a line of the student's own,
    # which normalizes the same for everyone): exactly the pairs that share a base are reported.
    # No wall-clock assert: compare_class fingerprints each source once and counts the common
    # fingerprints of all pairs with matrix products (200 x 5 took 0.6-1.0 s here).
    rng = random.Random(11)
    base = [_variant(tuple(rng.randrange(len(b)) for b in _BLOCKS)) for _ in range(40)]
    picked = {(i, e): rng.randrange(40) for i in range(80) for e in range(5)}
    solutions = {f"u{i:03d}": {f"ex{e}": base[picked[i, e]] + f"    z{i} = {i}\n" for e in range(5)}
                 for i in range(80)}
    found = {(m.exercise, m.a, m.b) for m in compare_class(solutions, threshold=0.95)}
    same_base = {(f"ex{e}", f"u{a:03d}", f"u{b:03d}") for e in range(5) for a in range(80)
                 for b in range(a + 1, 80) if base[picked[a, e]] == base[picked[b, e]]}
    assert len(same_base) > 300 and found == same_base


# ---------------------------------------------------------------- report


def test_report_escapes_student_code_and_explains_itself(tmp_path):
    hostile = "def f(x):\n    s = '<script>alert(1)</script>'\n    return x  # </pre><img src=x onerror=alert(2)>\n"
    m = Match("student", "ch07-conv-impl", "<b>eve</b>", "mallory&co", 0.934, hostile, "print('</pre>')")
    out = tmp_path / "sub" / "similar.html"
    write_report([m, Match("reference", "ch08-convback-impl", "s1", "dlcore.conv.conv2d_backward", 1.0,
                           "x = 1", "y = 2")], out, title="Week <7>")
    text = out.read_text(encoding="utf-8")
    assert "<script" not in text.lower() and "<img" not in text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;/pre&gt;&lt;img src=x onerror=alert(2)&gt;" in text
    assert "&lt;b&gt;eve&lt;/b&gt;" in text and "mallory&amp;co" in text and "Week &lt;7&gt;" in text
    assert text.count("<pre>") == 4 == text.count("</pre>")
    assert "0.934" in text and "dlcore.conv.conv2d_backward" in text
    assert str(MIN_TOKENS) in text and f"{THRESHOLD:.2f}" in text and "not proof" in text
    assert "http://" not in text and "https://" not in text and "<link" not in text
    assert sorted(p.name for p in out.parent.iterdir()) == ["similar.html"]  # no temp file left


def test_empty_report_says_no_pair_reached_the_threshold(tmp_path):
    out = tmp_path / "similar.html"
    out.write_text("old report")
    write_report([], out)
    text = out.read_text(encoding="utf-8")
    assert "No pair reached the threshold" in text and "<table" not in text
    assert str(MIN_TOKENS) in text
    assert [p.name for p in tmp_path.iterdir()] == ["similar.html"]
