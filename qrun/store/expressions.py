"""A derived value's expression: read with Python's parser over an allow-list, the derived values it names written out
in its place, and computed with its gradient, without eval."""

from __future__ import annotations

import ast
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from ..errors import DerivedError
from ..jobs.ladder import ORDER as RUNGS
from .exprnames import read_whole, restore
from .functions import FUNCTIONS
from .ordering import circles, ordered

Ref = tuple[str, ...]

# An expression's text: a mean over 100 jobs' results (quantum volume's heavy outputs, examples/qv) is about 2,000
MAX_CHARS = 4_000
# A derived value named in another is written out in its place. These bound what that may grow to (`b: a + a`,
# `c: b + b`, ... doubles at each step), how deep a tree gets (the walks below recurse once a level), and what a
# whole block's values may make together, which checking and computing them walk.
MAX_NODES = 2_000
MAX_NESTING = 600
# One text's own depth, before anything walks it: the walks below take up to two calls a level, and Python's stack
# a thousand (a sum of n terms is n levels: a longer one is split into named parts, which nest side by side)
MAX_TEXT_NESTING = 200
MAX_BLOCK_NODES = 20_000
NESTED = (
    f"nests deeper than {MAX_TEXT_NESTING} levels (a sum of more terms is as deep: name parts of it, "
    "a: ..., b: ..., and add those)"
)
_BINARY = {ast.Add: float.__add__, ast.Sub: float.__sub__, ast.Mult: float.__mul__, ast.Div: float.__truediv__}


def parse(text: str, known: Collection[str] = ()) -> ast.expr:
    """The expression's tree, every node checked against the allow-list; a name of `known` (the run's jobs and
    derived values) with '-' in it, or an observable's, is read whole (exprnames)."""
    if len(text) > MAX_CHARS:
        raise DerivedError(f"longer than {MAX_CHARS} characters")
    names: dict[str, str] = {}
    if "-" in text:
        text, names = read_whole(text, known, {*known, *FUNCTIONS})
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as e:
        raise DerivedError(f"not an expression qrun reads ({e.msg})") from None
    except RecursionError:  # Python's own parser, on thousands of nested operators
        raise DerivedError(NESTED) from None
    if _depth(tree) > MAX_TEXT_NESTING:
        raise DerivedError(NESTED)
    restore(tree, names)
    walk(tree)
    return tree


def _depth(tree: ast.AST) -> int:
    """How deep a parsed tree nests, counted without recursing: a sum of n terms is n levels deep."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node) if isinstance(child, ast.expr))
    return deepest


def walk(node: ast.expr) -> list[Ref]:
    """Every reference in the tree (a number's is ()), checking each node against the allow-list on the way."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return [()]
    if isinstance(node, ast.BinOp) and (type(node.op) in _BINARY or isinstance(node.op, ast.Pow)):
        return walk(node.left) + walk(node.right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return walk(node.operand)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
        arity = FUNCTIONS[node.func.id].arity
        if len(node.args) != arity or node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise DerivedError(f"{node.func.id}() takes {'one argument' if arity == 1 else f'{arity} arguments'}")
        return [ref for a in node.args for ref in walk(a)]
    ref = reference(node)
    if ref is None and _dotted(node) == 3 and isinstance(node, ast.Attribute):
        rung = ast.unparse(node.value).partition(".")[2]
        raise DerivedError(
            f"'{ast.unparse(node)}': a name of three parts is a ladder's value, LADDER.RUNG.OBSERVABLE, and '{rung}' "
            f"is no rung ({', '.join(RUNGS)})"
        )
    if ref is None:
        raise DerivedError(
            f"'{ast.unparse(node)}' is not a number, an operation, a function ({', '.join(FUNCTIONS)}) or a result"
        )
    return [ref]


def indexed(node: ast.expr, i: int) -> ast.expr:
    """The expression read at the i-th parameter set or sweep point: each result it reads with no index of its own
    gets [i] (e.z, c.meas["01"], climb.zne.zz); a bare name (a derived value, a job's optimum) and a number stay."""
    if isinstance(node, ast.BinOp):
        return ast.BinOp(indexed(node.left, i), node.op, indexed(node.right, i))
    if isinstance(node, ast.UnaryOp):
        return ast.UnaryOp(node.op, indexed(node.operand, i))
    if isinstance(node, ast.Call):
        return ast.Call(node.func, [indexed(a, i) for a in node.args], [])
    ref = reference(node)
    if ref is None or len(ref) == 1 or ref[-1].startswith("#"):
        return node
    return ast.Subscript(node, ast.Constant(i), ast.Load())


def _dotted(node: ast.expr) -> int:
    """How many names `node` is, joined by dots (a.b.c: 3), or 0 where it is anything else."""
    if isinstance(node, ast.Name):
        return 1
    inner = _dotted(node.value) if isinstance(node, ast.Attribute) else 0
    return inner + 1 if inner else 0


def written(ref: Ref) -> str:
    """A reference as an expression writes it: est.zz[2], samp.meas["01"][1], climb.zne.zz."""
    text = ".".join(ref[:2])
    for part in ref[2:]:
        text += f"[{part[1:]}]" if part.startswith("#") else f'["{part}"]'
    return text


def reference(node: ast.expr) -> Ref | None:
    """job, job.observable, job.observable[i], job.register["0101"], job.register["0101"][i], ladder.rung.observable
    (as (ladder, "rung.observable"), the name `qrun list` and `qrun diff` give that value). An index [i] is the
    i-th parameter set, or the i-th point of a sweep, kept as "#i"."""
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return (node.value.id, node.attr)
    # a rung's name in the middle, and nothing else: `e.zz.__class__` is no result
    if (
        isinstance(node, ast.Attribute)
        and isinstance(inner := node.value, ast.Attribute)
        and isinstance(inner.value, ast.Name)
        and inner.attr in RUNGS
    ):
        return (inner.value.id, f"{inner.attr}.{node.attr}")
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and isinstance(node.slice, ast.Constant)
    ):
        base = reference(node.value)
        key = node.slice.value
        if base is not None and isinstance(key, (int, str)) and not isinstance(key, bool):
            return (*base, str(key) if isinstance(key, str) else f"#{key}")
    if (  # an outcome's probability in a sampler's i-th parameter set or sweep point
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and type(node.slice.value) is int
    ):
        base = reference(node.value)
        if base is not None and len(base) == 3 and not base[2].startswith("#"):
            return (*base, f"#{node.slice.value}")
    return None


@dataclass(frozen=True)
class Written:
    """An expression with the derived values it names written out: its tree (whose parts other values share, and
    which nothing changes), how many nodes it has and how deep it nests."""

    tree: ast.expr
    size: int
    depth: int

    def references(self) -> list[Ref]:
        """The results it reads, each once, in the order it first reads them."""
        return list(dict.fromkeys(ref for ref in walk(self.tree) if ref))


class Block:
    """A derived: block's values, each written out once, in an order where every value a value names comes first
    (so no value is written out twice, and nothing recurses from one value into the next). A name that is a job's
    means the job (its optimum), as it did before derived values could be named."""

    def __init__(self, block: Mapping[str, object], jobs: Collection[str]):
        # a fit (a mapping, or the model's Fit) is no expression: store/fits computes it, over this block's values
        self.fits = {str(k) for k, v in block.items() if not isinstance(v, str | int | float)}
        self.texts = {str(k): str(v) for k, v in block.items() if str(k) not in self.fits}
        self.jobs = jobs
        self.done: dict[str, Written | DerivedError] = {}
        self.trees: dict[str, ast.expr] = {}  # each value's own text, parsed
        trees = self.trees
        self.known = {*jobs, *self.texts, *self.fits}
        names: dict[str, list[str]] = {}
        for name, text in self.texts.items():
            try:
                trees[name] = parse(text, self.known)
            except DerivedError as e:
                self.done[name] = e
                continue
            names[name] = list(dict.fromkeys(n for n in _bare_names(trees[name]) if self.is_derived(n)))
        for name in self.fits:
            names[name] = self._fit_names(block[name])
        why: dict[str, str] = {n: str(e) for n, e in self.done.items() if isinstance(e, DerivedError)}
        self.order: list[str] = []  # every value that can be ordered, each after the values it names (fits too)
        for name in ordered(names):
            self.order.append(name)
            failed = next((n for n in names[name] if n in why), None)
            if failed is not None:  # the first reason, not one nested in another per value of a chain
                why[name] = why[failed]
                self.done[name] = DerivedError(f"it names '{failed}', which cannot be computed: {why[failed]}")
                continue
            if name in self.fits:  # a leaf to the expressions that read it: store/fits computes it, in this order
                self.done[name] = Written(ast.Name(id=name, ctx=ast.Load()), 1, 1)
                continue
            try:
                self.done[name] = self._written(trees[name])
            except DerivedError as e:
                self.done[name], why[name] = e, str(e)
        unordered = [name for name in names if name not in self.done]  # each names itself, or a value that does
        for name, reason in circles(unordered, names).items():
            self.done[name] = DerivedError(reason)
        spent = 0
        for name in self.texts:  # the block in its own order: past the budget, a value is not computed
            found = self.done[name]
            if isinstance(found, Written):
                spent += found.size
                if spent > MAX_BLOCK_NODES:
                    self.done[name] = DerivedError(
                        f"the derived: block, its values written out, has more than {MAX_BLOCK_NODES:,} terms by here"
                    )

    def value(self, name: str) -> Written:
        found = self.done[name]
        if isinstance(found, DerivedError):
            raise found
        return found

    def expression(self, text: str | ast.expr) -> Written:
        """An expression that is no value of the block (its text, or its tree), with the block's values it names
        written out."""
        return self._written(parse(text, self.known) if isinstance(text, str) else text)

    def is_derived(self, name: str) -> bool:
        return name not in self.jobs and (name in self.texts or name in self.fits)

    def _fit_names(self, entry: object) -> list[str]:
        """The derived values (and fits) a fit's y values name; none where it cannot be read (its own error)."""
        from ..model.fit import Fit  # only a block with a fit

        try:
            ys = entry.y if isinstance(entry, Fit) else Fit.of(entry).y if isinstance(entry, Mapping) else ()
            trees = [parse(text, self.known) for text in ys]
        except DerivedError:
            return []
        return list(dict.fromkeys(n for tree in trees for n in _bare_names(tree) if self.is_derived(n)))

    def _written(self, node: ast.expr) -> Written:
        if isinstance(node, ast.Name) and self.is_derived(node.id):
            return self.value(node.id)
        parts: list[ast.expr] = []
        if isinstance(node, ast.BinOp):
            parts = [node.left, node.right]
        elif isinstance(node, ast.UnaryOp):
            parts = [node.operand]
        elif isinstance(node, ast.Call):
            parts = list(node.args)
        done = [self._written(part) for part in parts]
        size, depth = 1 + sum(d.size for d in done), 1 + max((d.depth for d in done), default=0)
        if size > MAX_NODES:
            raise DerivedError(f"with the derived values it names written out, it has more than {MAX_NODES:,} terms")
        if depth > MAX_NESTING:
            raise DerivedError(f"with the derived values it names written out, it nests deeper than {MAX_NESTING}")
        if isinstance(node, ast.BinOp):
            node = ast.BinOp(done[0].tree, node.op, done[1].tree)
        elif isinstance(node, ast.UnaryOp):
            node = ast.UnaryOp(node.op, done[0].tree)
        elif isinstance(node, ast.Call):
            node = ast.Call(node.func, [d.tree for d in done], [])
        return Written(node, size, depth)


def own_references(name: str, values: Block) -> list[Ref]:
    """The results a value's own text reads, each once: not a derived value it names, nor what that one reads."""
    own = walk(values.trees[name])  # parsed once, when the block was read
    return [r for r in dict.fromkeys(own) if r and not (len(r) == 1 and values.is_derived(r[0]))]


def _bare_names(node: ast.expr) -> list[str]:
    """The bare names an (allowed) expression reads: a job's optimum, or another derived value."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.BinOp):
        return _bare_names(node.left) + _bare_names(node.right)
    if isinstance(node, ast.UnaryOp):
        return _bare_names(node.operand)
    if isinstance(node, ast.Call):
        return [n for a in node.args for n in _bare_names(a)]
    return []


def compute(node: ast.expr, values: Mapping[Ref, float]) -> float:
    """The expression's value at these results' values."""
    return _forward(node, values, {})


def _forward(node: ast.expr, values: Mapping[Ref, float], seen: dict[int, float]) -> float:
    """Each node's value, kept by the node (a subtree two values share is computed once)."""
    known = seen.get(id(node))
    if known is not None:
        return known
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):  # parse() allowed no other
        result = float(node.value)
    elif isinstance(node, ast.BinOp):
        left, right = _forward(node.left, values, seen), _forward(node.right, values, seen)
        try:
            result = left**right if isinstance(node.op, ast.Pow) else _BINARY[type(node.op)](left, right)
        except ZeroDivisionError as e:
            raise DerivedError(f"'{ast.unparse(node)}': {e}") from None
        except OverflowError:  # float ** says "(34, 'Numerical result out of range')"
            raise DerivedError(f"'{ast.unparse(node)}': too large a number") from None
        if isinstance(result, complex):  # Python's (-8.0) ** (1 / 3): a complex number, which no value is
            raise DerivedError(f"'{ast.unparse(node)}': a negative number to a fractional power is not a real number")
    elif isinstance(node, ast.UnaryOp):
        operand = _forward(node.operand, values, seen)
        result = -operand if isinstance(node.op, ast.USub) else operand
    elif isinstance(node, ast.Call):
        try:
            args = [_forward(a, values, seen) for a in node.args]
            result = float(FUNCTIONS[node.func.id].value(*args))  # type: ignore[attr-defined]
        except ValueError as e:
            raise DerivedError(f"'{ast.unparse(node)}': {e}") from None
        except OverflowError:
            raise DerivedError(f"'{ast.unparse(node)}': too large a number") from None
    else:
        ref = reference(node)
        assert ref is not None  # parse() allowed nothing else
        result = values[ref]
    seen[id(node)] = result
    return result


def gradient(node: ast.expr, values: Mapping[Ref, float]) -> dict[Ref, float] | None:
    """d(value)/d(result) for each result the expression reads, in one pass back over the tree (reverse mode: a
    numeric derivative per result computed the whole tree again for each); None where a slope is not finite (a
    sqrt or log at 0)."""
    seen: dict[int, float] = {}
    _forward(node, values, seen)
    slopes: dict[Ref, float] = {}
    try:
        _backward(node, 1.0, seen, slopes)
    except (ZeroDivisionError, OverflowError, ValueError):
        return None
    return slopes if all(math.isfinite(s) for s in slopes.values()) else None


def _backward(node: ast.expr, adjoint: float, seen: dict[int, float], slopes: dict[Ref, float]) -> None:
    if isinstance(node, ast.Constant) or adjoint == 0.0:
        return
    if isinstance(node, ast.BinOp):
        a, b = seen[id(node.left)], seen[id(node.right)]
        if isinstance(node.op, ast.Add):
            da, db = 1.0, 1.0
        elif isinstance(node.op, ast.Sub):
            da, db = 1.0, -1.0
        elif isinstance(node.op, ast.Mult):
            da, db = b, a
        elif isinstance(node.op, ast.Div):
            da, db = 1 / b, -a / b**2
        else:  # a ** b: b's slope only where b reads a result (a negative a to a constant power has one)
            da = b * a ** (b - 1) if b != 0 else 0.0
            db = seen[id(node)] * math.log(a) if _reads(node.right) else 0.0
        _backward(node.left, adjoint * da, seen, slopes)
        _backward(node.right, adjoint * db, seen, slopes)
    elif isinstance(node, ast.UnaryOp):
        _backward(node.operand, -adjoint if isinstance(node.op, ast.USub) else adjoint, seen, slopes)
    elif isinstance(node, ast.Call):
        partials = FUNCTIONS[node.func.id].slopes(*(seen[id(a)] for a in node.args))  # type: ignore[attr-defined]
        for arg, slope in zip(node.args, partials):
            _backward(arg, adjoint * slope, seen, slopes)
    else:
        ref = reference(node)
        assert ref is not None
        slopes[ref] = slopes.get(ref, 0.0) + adjoint


def _reads(node: ast.expr) -> bool:
    return any(ref for ref in walk(node))
