"""Similarity benchmark: the fingerprint engine run incrementally, as production runs it,
against copydetect run once over the same trees, for time, peak memory and planted copies.

    .venv/bin/python -m benchmarks.similarity [--submissions 200] [--lines 2000] [--seed 18]
        [--copydetect-submissions 100]

The submissions are Python trees generated from a seeded grammar (modules of functions and
classes with varied bodies), each on top of one shared template whose stubs it fills in; a
few are planted copies of an earlier one (a share of its functions, every identifier renamed,
functions reordered and moved between files, other comments and line breaks). Ours: for
submission i, fingerprint the tree, subtract the template, `to_bytes`, then `from_bytes` and
`compare` each of the i-1 earlier ones. copydetect (`pip install -e '.[bench]'`): one
`CopyDetector` run over the first --copydetect-submissions trees written to a folder, the
template as boilerplate (its time grows with the square of the files: 200 trees take about
8 minutes on 2 vCPU, hence the default of 100; ours prints its time at the same point).
Each contender runs in its own child process, so its peak RSS (VmHWM) is its own.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.similarity.fingerprints import (
    DEFAULT_THRESHOLD,
    MIN_SHARED,
    TreeFingerprints,
    compare,
    fingerprint_tree,
)

# (copier, source, share of the source's code copied), as fractions of the run, so a smaller
# --submissions still plants them; the copier always comes later.
PLANTED = ((0.20, 0.06, 1.0), (0.45, 0.28, 0.75), (0.70, 0.50, 0.5), (0.90, 0.15, 0.3))
TEMPLATE_STUBS = 10
TEMPLATE_SEED = 1


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


VERBS = _words(
    "load save build parse check merge split count find apply render update resolve "
    "collect filter score normalise group index export fetch compute validate prepare"
)
NOUNS = _words(
    "order item user price total entry record batch line rate limit account invoice event "
    "report window bucket token node edge path key value result cache queue table column "
    "row schema session payload"
)
BUILTINS = ("sorted", "sum", "min", "max", "len", "list", "set", "tuple", "abs", "round")
EXCEPTIONS = ("ValueError", "KeyError", "TypeError", "RuntimeError", "LookupError")
COMMENTS = (
    "keep the order stable",
    "the cheap check first",
    "callers rely on this",
    "see the spec",
    "edge case: empty input",
    "TODO: revisit",
    "fast path",
    "guard against bad data",
)

Expr = tuple[Any, ...]
Stmt = tuple[Any, ...]


def _rng(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - reproducible test data, not secrets


@dataclass
class Function:
    symbol: str
    params: list[str]
    body: list[Stmt]
    method: bool = False


@dataclass
class ClassUnit:
    symbol: str
    attributes: list[str]
    methods: list[Function]


Unit = Function | ClassUnit


@dataclass
class Submission:
    stub_bodies: list[list[Stmt]]
    units: list[Unit]
    modules: int
    seed: int  # of its names, module assignment, comments and line breaks
    wrap_calls: bool = False


class Grammar:
    """Random code structures. Symbols are `kind:owner:n`, so two submissions never share
    one by accident; names are given to them only when rendered."""

    def __init__(self, rng: random.Random, owner: str) -> None:
        self.rng = rng
        self.owner = owner
        self.counter = 0
        self.functions: list[str] = []
        self.attributes = [self.symbol("a") for _ in range(12)]

    def symbol(self, kind: str) -> str:
        self.counter += 1
        return f"{kind}:{self.owner}:{self.counter}"

    def function(self, params: list[str] | None = None, method: bool = False) -> Function:
        symbol = self.symbol("f")
        if params is None:
            params = [self.symbol("v") for _ in range(self.rng.randint(1, 4))]
        scope = list(params)
        body = self.block(scope, depth=0, size=self.rng.randint(3, 9), method=method)
        body.append(("return", self.expr(scope, 2, method)))
        self.functions.append(symbol)
        return Function(symbol, params, body, method)

    def unit(self) -> Unit:
        if self.rng.random() < 0.8:
            return self.function()
        attributes = self.rng.sample(self.attributes, self.rng.randint(2, 5))
        methods = [self.function(method=True) for _ in range(self.rng.randint(2, 4))]
        return ClassUnit(self.symbol("c"), attributes, methods)

    def block(self, scope: list[str], depth: int, size: int, method: bool) -> list[Stmt]:
        return [self.statement(scope, depth, method) for _ in range(size)]

    def statement(self, scope: list[str], depth: int, method: bool) -> Stmt:
        rng = self.rng
        roll = rng.random()
        nested = depth < 2
        if roll < 0.30 or not scope:
            target = self.symbol("v")
            statement: Stmt = ("assign", target, self.expr(scope, 2, method))
            scope.append(target)
            return statement
        if roll < 0.38:
            return ("aug", rng.choice(scope), rng.choice("+-*"), self.expr(scope, 1, method))
        if roll < 0.52 and nested:
            orelse = self.block(list(scope), depth + 1, rng.randint(1, 2), method)
            return (
                "if",
                self.condition(scope, method),
                self.block(list(scope), depth + 1, rng.randint(1, 3), method),
                orelse if rng.random() < 0.4 else [],
            )
        if roll < 0.64 and nested:
            variable = self.symbol("v")
            inner = [*scope, variable]
            body = self.block(inner, depth + 1, rng.randint(1, 3), method)
            return ("for", variable, self.expr(scope, 1, method), body)
        if roll < 0.68 and nested:
            body = self.block(list(scope), depth + 1, rng.randint(1, 2), method)
            handler = self.block(list(scope), depth + 1, 1, method)
            return ("try", body, rng.choice(EXCEPTIONS), handler)
        if roll < 0.74:
            return ("raise_if", self.condition(scope, method), rng.choice(EXCEPTIONS))
        if roll < 0.84:
            return ("call", self.call(scope, 1, method))
        if roll < 0.92:
            return ("append", rng.choice(scope), self.expr(scope, 1, method))
        return (
            "setitem",
            rng.choice(scope),
            self.expr(scope, 0, method),
            self.expr(scope, 1, method),
        )

    def condition(self, scope: list[str], method: bool) -> Expr:
        operator = self.rng.choice(("<", ">", "==", "!=", "<=", "in", "is not"))
        left = self.expr(scope, 1, method)
        condition: Expr = ("cmp", operator, left, self.expr(scope, 0, method))
        if self.rng.random() < 0.3:
            other = ("cmp", "==", self.expr(scope, 0, method), self.atom(scope, method))
            condition = ("bool", self.rng.choice(("and", "or")), condition, other)
        return condition

    def call(self, scope: list[str], depth: int, method: bool) -> Expr:
        arguments = [self.expr(scope, depth - 1, method) for _ in range(self.rng.randint(0, 3))]
        roll = self.rng.random()
        if roll < 0.45 and self.functions:
            return ("call", self.rng.choice(self.functions), arguments)
        if roll < 0.75 and scope:
            return ("meth", self.rng.choice(scope), self.symbol("m"), arguments)
        return ("builtin", self.rng.choice(BUILTINS), arguments[:1] or [self.atom(scope, method)])

    def atom(self, scope: list[str], method: bool) -> Expr:
        roll = self.rng.random()
        if roll < 0.5 and scope:
            return ("name", self.rng.choice(scope))
        if roll < 0.62 and method:
            return ("self", self.rng.choice(self.attributes))
        if roll < 0.8:
            return ("int", self.rng.randint(0, 100))
        if roll < 0.9:
            return ("str", self.rng.choice(NOUNS))
        return (
            "attr",
            self.rng.choice(scope) if scope else "None",
            self.rng.choice(self.attributes),
        )

    def expr(self, scope: list[str], depth: int, method: bool) -> Expr:
        rng = self.rng
        if depth <= 0 or rng.random() < 0.3:
            return self.atom(scope, method)
        roll = rng.random()
        if roll < 0.25:
            operator = rng.choice("+-*/%")
            return ("bin", operator, self.expr(scope, depth - 1, method), self.atom(scope, method))
        if roll < 0.5:
            return self.call(scope, depth, method)
        if roll < 0.6 and scope:
            return ("sub", rng.choice(scope), self.expr(scope, depth - 1, method))
        if roll < 0.72:
            variable = self.symbol("v")
            inner = [*scope, variable]
            element = self.expr(inner, depth - 1, method)
            filtered = self.condition(inner, method) if rng.random() < 0.5 else None
            return ("comp", element, variable, self.expr(scope, depth - 1, method), filtered)
        if roll < 0.8:
            items = [(rng.choice(NOUNS), self.expr(scope, depth - 1, method)) for _ in range(2)]
            return ("dict", items)
        if roll < 0.9:
            return ("fstr", [self.atom(scope, method) for _ in range(rng.randint(1, 3))])
        condition = self.condition(scope, method)
        return ("ternary", self.atom(scope, method), condition, self.atom(scope, method))


@dataclass
class Names:
    """The names one author gives to symbols."""

    rng: random.Random
    given: dict[str, str] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)

    def __call__(self, symbol: str) -> str:
        if symbol in self.given:
            return self.given[symbol]
        kind = symbol.split(":", 1)[0]
        for attempt in range(100):
            noun = self.rng.choice(NOUNS)
            if kind in ("f", "m"):
                name = f"{self.rng.choice(VERBS)}_{noun}"
            elif kind == "c":
                name = noun.title() + self.rng.choice(NOUNS).title()
            elif kind == "module":
                name = f"{noun}s"
            else:
                name = noun if self.rng.random() < 0.5 else f"{self.rng.choice(NOUNS)}_{noun}"
            if attempt > 10:
                name = f"{name}_{attempt}"
            if name not in self.taken:
                break
        self.taken.add(name)
        self.given[symbol] = name
        return name


class Renderer:
    def __init__(self, names: Names, rng: random.Random, wrap_calls: bool) -> None:
        self.names = names
        self.rng = rng
        self.wrap_calls = wrap_calls

    def expr(self, node: Expr) -> str:
        kind = node[0]
        name = self.names
        if kind == "name":
            return name(node[1])
        if kind == "self":
            return f"self.{name(node[1])}"
        if kind == "int":
            return str(node[1])
        if kind == "str":
            return repr(node[1])
        if kind == "attr":
            owner = node[1] if node[1] == "None" else name(node[1])
            return f"getattr({owner}, {name(node[2])!r}, None)"
        if kind == "bin":
            return f"({self.expr(node[2])} {node[1]} {self.expr(node[3])})"
        if kind == "cmp":
            return f"{self.expr(node[2])} {node[1]} {self.expr(node[3])}"
        if kind == "bool":
            return f"({self.expr(node[2])} {node[1]} {self.expr(node[3])})"
        if kind == "call":
            return self.arguments(name(node[1]), node[2])
        if kind == "meth":
            return self.arguments(f"{name(node[1])}.{name(node[2])}", node[3])
        if kind == "builtin":
            return self.arguments(node[1], node[2])
        if kind == "sub":
            return f"{name(node[1])}[{self.expr(node[2])}]"
        if kind == "comp":
            element, variable, source, condition = node[1:]
            text = f"[{self.expr(element)} for {name(variable)} in {self.expr(source)}"
            return text + (f" if {self.expr(condition)}]" if condition else "]")
        if kind == "dict":
            return "{" + ", ".join(f"{key!r}: {self.expr(value)}" for key, value in node[1]) + "}"
        if kind == "fstr":
            return 'f"' + " ".join("{" + self.expr(part) + "}" for part in node[1]) + '"'
        if kind == "ternary":
            return f"({self.expr(node[1])} if {self.expr(node[2])} else {self.expr(node[3])})"
        raise ValueError(kind)

    def arguments(self, callee: str, arguments: list[Expr]) -> str:
        rendered = [self.expr(argument) for argument in arguments]
        if self.wrap_calls and len(rendered) >= 2:
            inner = "".join(f"\n        {argument}," for argument in rendered)
            return f"{callee}({inner}\n    )"
        return f"{callee}({', '.join(rendered)})"

    def block(self, statements: list[Stmt], indent: str) -> list[str]:
        lines = []
        for statement in statements:
            if self.rng.random() < 0.08:
                lines.append(f"{indent}# {self.rng.choice(COMMENTS)}")
            lines.extend(self.statement(statement, indent))
        return lines

    def statement(self, node: Stmt, indent: str) -> list[str]:
        kind = node[0]
        name = self.names
        deeper = indent + "    "
        if kind == "assign":
            return [f"{indent}{name(node[1])} = {self.expr(node[2])}"]
        if kind == "aug":
            return [f"{indent}{name(node[1])} {node[2]}= {self.expr(node[3])}"]
        if kind == "return":
            return [f"{indent}return {self.expr(node[1])}"]
        if kind == "call":
            return [f"{indent}{self.expr(node[1])}"]
        if kind == "append":
            return [f"{indent}{name(node[1])}.append({self.expr(node[2])})"]
        if kind == "setitem":
            return [f"{indent}{name(node[1])}[{self.expr(node[2])}] = {self.expr(node[3])}"]
        if kind == "raise_if":
            message = self.rng.choice(COMMENTS)
            return [f"{indent}if {self.expr(node[1])}:", f"{deeper}raise {node[2]}({message!r})"]
        if kind == "if":
            lines = [f"{indent}if {self.expr(node[1])}:", *self.block(node[2], deeper)]
            if node[3]:
                lines += [f"{indent}else:", *self.block(node[3], deeper)]
            return lines
        if kind == "for":
            header = f"{indent}for {name(node[1])} in {self.expr(node[2])}:"
            return [header, *self.block(node[3], deeper)]
        if kind == "try":
            handler = [f"{indent}except {node[2]}:", *self.block(node[3], deeper)]
            return [f"{indent}try:", *self.block(node[1], deeper), *handler]
        raise ValueError(kind)

    def function(self, function: Function, indent: str = "") -> list[str]:
        params = [self.names(param) for param in function.params]
        if function.method:
            params.insert(0, "self")
        lines = [f"{indent}def {self.names(function.symbol)}({', '.join(params)}):"]
        if self.rng.random() < 0.3:
            lines.append(f'{indent}    """{self.rng.choice(COMMENTS).capitalize()}."""')
        return lines + self.block(function.body, indent + "    ")

    def unit(self, unit: Unit) -> list[str]:
        if isinstance(unit, Function):
            return self.function(unit)
        lines = [f"class {self.names(unit.symbol)}:", "    def __init__(self):"]
        lines += [f"        self.{self.names(attribute)} = None" for attribute in unit.attributes]
        for method in unit.methods:
            lines += ["", *self.function(method, "    ")]
        return lines


@dataclass
class Template:
    files: dict[str, str]
    stubs: list[Function]
    names: Names


def make_template(lines: int) -> Template:
    """The shared starter tree: given models and tests, and stubs for the candidate."""
    rng = _rng(TEMPLATE_SEED)
    grammar = Grammar(rng, "template")
    names = Names(_rng(TEMPLATE_SEED))
    render = Renderer(names, rng, wrap_calls=False)
    given = [grammar.unit() for _ in range(max(lines // 120, 2))]
    stubs = [grammar.function() for _ in range(TEMPLATE_STUBS)]
    tests = [grammar.function() for _ in range(max(lines // 150, 2))]
    files = {
        "README.md": "# Exercise\n\nImplement the stubs in app/service.py.\n",
        "requirements.txt": "pytest>=8\n",
        "app/__init__.py": "",
        "app/models.py": _module([render.unit(unit) for unit in given]),
        "app/service.py": _module([_stub(render, stub, None) for stub in stubs]),
        "tests/test_service.py": _module([render.function(test) for test in tests]),
    }
    return Template(files, stubs, names)


def _stub(render: Renderer, stub: Function, body: list[Stmt] | None) -> list[str]:
    params = ", ".join(render.names(param) for param in stub.params)
    lines = [f"def {render.names(stub.symbol)}({params}):", '    """Implement me."""']
    if body is None:
        return [*lines, "    raise NotImplementedError"]
    return lines + render.block(body, "    ")


def _module(units: list[list[str]]) -> str:
    return "\n\n\n".join("\n".join(unit) for unit in units) + "\n"


def honest(index: int, seed: int, template: Template, lines: int) -> Submission:
    rng = _rng(seed * 1_000_003 + index)
    grammar = Grammar(rng, f"s{index}")
    bodies = [
        grammar.block(list(stub.params), 0, rng.randint(4, 10), False) for stub in template.stubs
    ]
    probe = Renderer(Names(_rng(0)), _rng(0), wrap_calls=False)
    written = sum(
        len(_stub(probe, stub, body)) for stub, body in zip(template.stubs, bodies, strict=True)
    )
    written += sum(
        text.count("\n") for path, text in template.files.items() if path != "app/service.py"
    )
    units: list[Unit] = []
    while written < lines:
        unit = grammar.unit()
        units.append(unit)
        written += len(probe.unit(unit)) + 3
    return Submission(bodies, units, modules=rng.randint(6, 12), seed=rng.randrange(2**32))


def copy_of(source: Submission, share: float, own: Submission, rng: random.Random) -> Submission:
    """`own` with `share` of the source's functions and stub bodies in place of its own:
    renamed (its own names), reordered, moved between modules, other comments and wrapping."""
    bodies = [
        theirs if rng.random() < share else mine
        for theirs, mine in zip(source.stub_bodies, own.stub_bodies, strict=True)
    ]
    taken = rng.sample(source.units, round(share * len(source.units)))
    units = taken + own.units[: round((1 - share) * len(own.units))]
    rng.shuffle(units)
    return Submission(bodies, units, own.modules, own.seed, wrap_calls=not source.wrap_calls)


def render(submission: Submission, template: Template) -> dict[str, str]:
    rng = _rng(submission.seed)
    names = Names(_rng(submission.seed))
    files = dict(template.files)
    # The stubs keep the template's names (their signatures are given), the bodies the author's.
    in_stubs = Renderer(_TemplateFirst(template.names, names), rng, submission.wrap_calls)
    files["app/service.py"] = _module(
        [
            _stub(in_stubs, stub, body)
            for stub, body in zip(template.stubs, submission.stub_bodies, strict=True)
        ]
    )
    own = Renderer(names, rng, submission.wrap_calls)
    modules: dict[int, list[list[str]]] = {}
    for unit in submission.units:
        modules.setdefault(rng.randrange(submission.modules), []).append(own.unit(unit))
    for number, units in sorted(modules.items()):
        files[f"app/{names(f'module:{number}')}.py"] = _module(units)
    return files


class _TemplateFirst(Names):
    """The template's names for the template's symbols, the author's for the rest."""

    def __init__(self, template_names: Names, own: Names) -> None:
        super().__init__(own.rng, own.given, own.taken)
        self.template_names = template_names

    def __call__(self, symbol: str) -> str:
        if symbol.split(":")[1] == "template":
            return self.template_names(symbol)
        return super().__call__(symbol)


def generate(
    count: int, lines: int, seed: int
) -> tuple[Template, list[dict[str, str]], list[tuple[int, int, float]]]:
    """The template, the submissions' trees in order, and the planted (copier, source, share)."""
    template = make_template(lines // 8)
    submissions = [honest(index, seed, template, lines) for index in range(count)]
    planted = []
    rng = _rng(seed)
    for copier_at, source_at, share in PLANTED:
        copier, source = int(copier_at * count), int(source_at * count)
        if copier <= source or copier >= count:
            continue
        submissions[copier] = copy_of(submissions[source], share, submissions[copier], rng)
        planted.append((copier, source, share))
    return template, [render(submission, template) for submission in submissions], planted


def write_trees(folder: Path, template: Template, trees: list[dict[str, str]]) -> None:
    for name, files in (
        ("template", template.files),
        *((_name(i), t) for i, t in enumerate(trees)),
    ):
        for path, text in files.items():
            target = folder / name / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)


def _name(index: int) -> str:
    return f"submission-{index:04d}"


def _read_tree(folder: Path) -> list[tuple[str, str]]:
    return [
        (path.relative_to(folder).as_posix(), path.read_text())
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]


def run_ours(folder: Path, count: int) -> dict[str, Any]:
    """Submission by submission, as the similarity job does: read the tree, fingerprint it
    minus the template, store the bytes, compare with every earlier submission's bytes."""
    started, started_cpu = time.perf_counter(), time.process_time()
    template = fingerprint_tree(_read_tree(folder / "template"))
    stored: list[bytes] = []  # stands in for the bytea column
    reported: dict[tuple[int, int], float] = {}
    scores: dict[tuple[int, int], float] = {}
    last = last_cpu = 0.0
    elapsed = []  # after each submission: wall and CPU seconds since the start
    for index in range(count):
        began, began_cpu = time.perf_counter(), time.process_time()
        tree = fingerprint_tree(_read_tree(folder / _name(index))).without(template)
        stored.append(tree.to_bytes())
        for earlier, data in enumerate(stored[:-1]):
            match = compare(tree, TreeFingerprints.from_bytes(data))
            scores[(index, earlier)] = match.score
            if match.score >= DEFAULT_THRESHOLD and match.shared >= MIN_SHARED:
                reported[(index, earlier)] = match.score
        last, last_cpu = time.perf_counter() - began, time.process_time() - began_cpu
        elapsed.append((time.perf_counter() - started, time.process_time() - started_cpu))
    return {
        "elapsed": elapsed,
        "wall_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - started_cpu,
        "last_wall_s": last,
        "last_cpu_s": last_cpu,
        "stored_kib": sum(map(len, stored)) / 1024,
        "reported": [[*pair, score] for pair, score in reported.items()],
        "scores": [[*pair, score] for pair, score in scores.items()],
    }


def run_copydetect(folder: Path, count: int) -> dict[str, Any]:
    """One CopyDetector run over every tree, the template as boilerplate, as its CLI does."""
    from copydetect import CopyDetector  # the bench extra, imported only here

    started, started_cpu = time.perf_counter(), time.process_time()
    detector = CopyDetector(
        test_dirs=[str(folder / _name(index)) for index in range(count)],
        boilerplate_dirs=[str(folder / "template")],
        extensions=["py"],
        ignore_leaf=True,  # files of one folder are one candidate's: not compared
        silent=True,
        autoopen=False,
    )
    detector.run()
    wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    owner = [
        int(Path(path).relative_to(folder).parts[0].split("-")[1]) for path in detector.test_files
    ]
    display = detector.conf.display_t
    best: dict[tuple[int, int], float] = {}
    matrix = detector.similarity_matrix
    for i, left in enumerate(owner):
        for j, right in enumerate(owner):
            if left > right:
                similarity = float(max(matrix[i, j, 0], matrix[i, j, 1]))
                best[(left, right)] = max(best.get((left, right), 0.0), similarity)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "display_threshold": display,
        "reported": [[*pair, score] for pair, score in best.items() if score > display],
        "scores": [[*pair, score] for pair, score in best.items()],
    }


CONTENDERS = {"ours": run_ours, "copydetect": run_copydetect}


def _child(contender: str, folder: Path, count: int) -> None:
    before = _peak_rss_kib()
    figures = CONTENDERS[contender](folder, count)
    figures["peak_rss_mib"] = _peak_rss_kib() / 1024
    figures["rss_growth_mib"] = (_peak_rss_kib() - before) / 1024
    print(json.dumps(figures))


def _peak_rss_kib() -> int:
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the forking
    # parent, whose own peak would hide the child's.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/self/status (Linux only)")


def _measure(contender: str, folder: Path, count: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.similarity", "--child", contender, str(folder)]
    command += ["--submissions", str(count)]
    output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=3600)
    return json.loads(output.stdout.splitlines()[-1])


def _summary(
    name: str, figures: dict[str, Any], planted: list[tuple[int, int, float]], count: int
) -> None:
    planted = [copy for copy in planted if copy[0] < count]
    reported = {(left, right) for left, right, _ in figures["reported"]}
    scores = {(left, right): score for left, right, score in figures["scores"]}
    copies = {(copier, source) for copier, source, _ in planted}
    honest = [score for pair, score in scores.items() if pair not in copies]
    found = ", ".join(
        f"{copier}<-{source} {share:.0%}: {scores.get((copier, source), 0.0):.2f}"
        f"{' found' if (copier, source) in reported else ' MISSED'}"
        for copier, source, share in planted
    )
    print(
        f"{name:>10}: {figures['wall_s']:.1f} s wall, {figures['cpu_s']:.1f} s CPU; "
        f"peak RSS {figures['peak_rss_mib']:.0f} MiB "
        f"(+{figures['rss_growth_mib']:.0f} after imports)"
    )
    if "last_wall_s" in figures:
        print(
            f"{'':>10}  last submission {figures['last_wall_s']:.2f} s wall, "
            f"{figures['last_cpu_s']:.2f} s CPU; stored {figures['stored_kib'] / 1024:.1f} MiB"
        )
        for checkpoint in sorted({50, 100, count} & set(range(1, count + 1))):
            wall, cpu = figures["elapsed"][checkpoint - 1]
            print(f"{'':>10}  first {checkpoint}: {wall:.1f} s wall, {cpu:.1f} s CPU")
    print(f"{'':>10}  planted copies (score): {found}")
    print(
        f"{'':>10}  honest pairs: {len(honest)}, highest score {max(honest, default=0.0):.3f}, "
        f"reported {len(reported - copies)}"
    )


def _lines(files: dict[str, str]) -> int:
    return sum(text.count("\n") for text in files.values())


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--submissions", type=int, default=200)
    options.add_argument("--lines", type=int, default=2000, help="per submission, about")
    options.add_argument("--seed", type=int, default=18)
    options.add_argument(
        "--copydetect-submissions",
        type=int,
        default=100,
        help="copydetect runs over the first N trees (0: not at all); its time grows with N^2",
    )
    options.add_argument(
        "--child", nargs=2, metavar=("CONTENDER", "FOLDER"), help=argparse.SUPPRESS
    )
    args = options.parse_args()
    if args.child:
        _child(args.child[0], Path(args.child[1]), args.submissions)
        return
    template, trees, planted = generate(args.submissions, args.lines, args.seed)
    lines = [_lines(tree) for tree in trees]
    print(
        f"{len(trees)} submissions, {min(lines)}-{max(lines)} lines each "
        f"({sum(lines) / len(lines):.0f} on average, the template's {_lines(template.files)} "
        "included); "
        f"planted copies (copier<-source share): "
        + ", ".join(f"{c}<-{s} {share:.0%}" for c, s, share in planted)
    )
    with tempfile.TemporaryDirectory(prefix="tenon-similarity-bench-") as folder:
        write_trees(Path(folder), template, trees)
        ours = _measure("ours", Path(folder), args.submissions)
        _summary("ours", ours, planted, args.submissions)
        count = min(args.copydetect_submissions, args.submissions)
        if count:
            _summary("copydetect", _measure("copydetect", Path(folder), count), planted, count)


if __name__ == "__main__":
    main()
