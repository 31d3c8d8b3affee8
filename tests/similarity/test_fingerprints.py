"""The fingerprint engine on hand-written submissions of one task per language
(tests/fixtures/similarity/<language>/): the template, two honest solutions written apart,
and a copy of the first with every identifier renamed, functions reordered and moved to
other files, comments changed and lines reformatted. A submission's folder holds only what
it changed or added; the template's other files are under it, as in a real repository."""

from __future__ import annotations

import json
import random
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from app.similarity.fingerprints import (
    DEFAULT_PARAMS,
    DEFAULT_THRESHOLD,
    MIN_SHARED,
    PairMatch,
    TreeFingerprints,
    WinnowParams,
    compare,
    fingerprint_tree,
)
from tests.support.paths import REPOSITORY_ROOT

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "similarity"
LANGUAGES = ("python", "typescript")

# Small edits a candidate who did next to nothing makes: the obvious one-line bodies of
# some stubs (the same in both submissions), a comment.
TRIVIAL_EDITS = {
    "python": (
        "lending/service.py",
        [
            ("raise NotImplementedError  # TODO", "self.books[book.isbn] = book"),
            ("raise NotImplementedError  # TODO", "self.members[member.member_id] = member"),
            ("raise NotImplementedError  # TODO", "return self.book(isbn).copies"),
        ],
        "# my notes\n",
    ),
    "typescript": (
        "src/scheduler.ts",
        [
            ('throw new Error("TODO");', "return [];"),
            ('throw new Error("TODO");', "return [];"),
            ('throw new Error("TODO");', "return tasks.map((task) => task.id);"),
        ],
        "// my notes\n",
    ),
}


def _files(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): path.read_text()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _tree(language: str, name: str) -> dict[str, str]:
    """The submission's repository: the template with the submission's files over it."""
    return _files(FIXTURES / language / "template") | _files(FIXTURES / language / name)


def _template(language: str) -> TreeFingerprints:
    return fingerprint_tree(_tree(language, "template").items())


def _submission(language: str, files: dict[str, str]) -> TreeFingerprints:
    return fingerprint_tree(files.items()).without(_template(language))


def _fixture(language: str, name: str) -> TreeFingerprints:
    return _submission(language, _tree(language, name))


def _reported(match: PairMatch) -> bool:
    return match.score >= DEFAULT_THRESHOLD and match.shared >= MIN_SHARED


def _trivial_submission(language: str, with_comment: bool) -> dict[str, str]:
    files = _tree(language, "template")
    path, edits, comment = TRIVIAL_EDITS[language]
    text = files[path]
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    files[path] = comment + text if with_comment else text
    return files


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_renamed_and_reordered_copy_is_reported(language: str) -> None:
    match = compare(_fixture(language, "copy_of_a"), _fixture(language, "honest_a"))

    assert match.score >= DEFAULT_THRESHOLD
    assert match.shared >= MIN_SHARED
    assert _reported(match)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("left", "right"), [("honest_a", "honest_b"), ("copy_of_a", "honest_b")])
def test_solutions_written_apart_score_below_the_threshold(
    language: str, left: str, right: str
) -> None:
    match = compare(_fixture(language, left), _fixture(language, right))

    assert match.score < DEFAULT_THRESHOLD
    assert not _reported(match)


# (file, first line, last line) of a function in honest_a, and of the same function in the
# copy: renamed, and moved (within its file, or to another file).
COPIED_FUNCTIONS = [
    # Library.checkout: moved down within service.py, locals renamed, a raise rewrapped.
    ("python", ("lending/service.py", 75, 98), ("lending/service.py", 78, 103)),
    # search.score became lookup.relevance: another file, the function after its caller.
    ("python", ("lending/search.py", 18, 33), ("lending/lookup.py", 22, 37)),
    # search.rank_books became lookup.find_matches, moved to the top of the file.
    ("python", ("lending/search.py", 36, 43), ("lending/lookup.py", 12, 19)),
    # criticalPath: moved from near the end of scheduler.ts to near its top, reformatted.
    ("typescript", ("src/scheduler.ts", 115, 144), ("src/scheduler.ts", 15, 37)),
    # graph.findCycle became loopIn, moved into scheduler.ts, braces dropped.
    ("typescript", ("src/graph.ts", 28, 62), ("src/scheduler.ts", 87, 115)),
    # graph.buildGraph became deps.edgesOf in a file of its own.
    ("typescript", ("src/graph.ts", 9, 21), ("src/deps.ts", 5, 17)),
]
# A region may end a few lines into the next function: k-grams straddle the boundary.
SLACK_LINES = 3


def _inside(region_file: str, start: int, end: int, place: tuple[str, int, int]) -> bool:
    file, first, last = place
    return region_file == file and first <= start and end <= last + SLACK_LINES


def _covered(spans: list[tuple[int, int]], first: int, last: int) -> int:
    return len(
        {line for start, end in spans for line in range(start, end + 1)}
        & set(range(first, last + 1))
    )


@pytest.mark.parametrize(("language", "original", "copied"), COPIED_FUNCTIONS)
def test_regions_map_a_copied_function_to_its_moved_and_renamed_version(
    language: str, original: tuple[str, int, int], copied: tuple[str, int, int]
) -> None:
    match = compare(_fixture(language, "honest_a"), _fixture(language, "copy_of_a"))

    from_original = [
        region
        for region in match.regions
        if _inside(region.left.file, region.left.start_line, region.left.end_line, original)
    ]
    assert from_original, f"no region inside {original}"
    for region in from_original:
        assert _inside(region.right.file, region.right.start_line, region.right.end_line, copied)
    _, first, last = original
    left_spans = [(region.left.start_line, region.left.end_line) for region in from_original]
    assert _covered(left_spans, first, last) >= (last - first + 1) / 2
    _, first, last = copied
    right_spans = [(region.right.start_line, region.right.end_line) for region in from_original]
    assert _covered(right_spans, first, last) >= (last - first + 1) / 2


@pytest.mark.parametrize("language", LANGUAGES)
def test_regions_come_largest_first_and_are_mirrored_when_sides_swap(language: str) -> None:
    original, copy = _fixture(language, "honest_a"), _fixture(language, "copy_of_a")

    match = compare(original, copy)
    swapped = compare(copy, original)

    sizes = [region.fingerprints for region in match.regions]
    assert sizes == sorted(sizes, reverse=True)
    assert (swapped.shared, swapped.left_fraction, swapped.right_fraction) == (
        match.shared,
        match.right_fraction,
        match.left_fraction,
    )
    assert {(region.right, region.left) for region in swapped.regions} == {
        (region.left, region.right) for region in match.regions
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_template_with_trivial_changes_is_never_reported(language: str) -> None:
    first = _submission(language, _trivial_submission(language, with_comment=False))
    second = _submission(language, _trivial_submission(language, with_comment=True))

    match = compare(first, second)

    assert not _reported(match)
    assert match.regions == ()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_template_has_no_fingerprints_of_its_own(language: str) -> None:
    template = _template(language)

    assert len(template) > 0
    assert len(template.without(template)) == 0


WHOLE = 10_000
# Files of honest_a that are the template's, unchanged, and the template's lines left as
# they were in honest_a's service.py (its constants, __init__, book() and member()).
TEMPLATE_PLACES = {
    "python": [
        ("lending/models.py", 1, WHOLE),
        ("tests/test_service.py", 1, WHOLE),
        ("lending/service.py", 18, 42),
    ],
    "typescript": [
        ("src/types.ts", 1, WHOLE),
        ("src/index.ts", 1, WHOLE),
        ("test/scheduler.test.ts", 1, WHOLE),
    ],
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_template_code_never_produces_a_region(language: str) -> None:
    submission = _fixture(language, "honest_a")

    match = compare(submission, submission)

    assert match.score == 1.0
    for file, first, last in TEMPLATE_PLACES[language]:
        for region in match.regions:
            span = region.left
            assert span.file != file or span.end_line < first or span.start_line > last, region


def test_a_tiny_identical_tree_is_under_the_minimum_shared() -> None:
    code = (
        "def total(prices, rate):\n"
        "    result = 0\n"
        "    for price in prices:\n"
        "        result += price * (1 + rate)\n"
        "    return round(result, 2)\n"
    )

    match = compare(fingerprint_tree([("a.py", code)]), fingerprint_tree([("b.py", code)]))

    assert match.score == 1.0
    assert 0 < match.shared < MIN_SHARED
    assert not _reported(match)


NORMALISED_PAIRS = {
    "python": (
        'def area(width, height):\n    """Area."""\n    # rectangle\n'
        '    scale = 2.5\n    label = "box"\n    return width * height * scale, label\n',
        "\n\ndef surface(w, h):\n    '''Another docstring.'''\n"
        "    factor = 7\n    name = 'crate'  # renamed\n    return w * h * factor, name\n",
    ),
    "typescript": (
        "export function area(width: number, height: number): [number, string] {\n"
        '  // rectangle\n  const scale = 2.5;\n  const label = "box";\n'
        "  return [width * height * scale, label];\n}\n",
        "/** Surface. */\nexport function surface(w: Size, h: Size): [Size, Label] {\n"
        "  const factor = 0x7;\n  const name = `crate`;\n"
        "  return [w * h * factor, name]; /* renamed */\n}\n",
    ),
    "c": (
        '#include "shapes.h"\n#define SCALE(v) ((v) * 2)\n'
        "int area(int width, int height) { return SCALE(width * height); }\n",
        "#include <geometry.h>\n#define DOUBLE(x) ((x) * 2)  // renamed\n"
        "int surface(int w, int h) {\n  return DOUBLE(w * h);\n}\n",
    ),
}
SUFFIXES = {"python": ".py", "typescript": ".ts", "c": ".c"}


@pytest.mark.parametrize("language", NORMALISED_PAIRS)
def test_names_literals_comments_and_layout_do_not_change_fingerprints(language: str) -> None:
    original, rewritten = NORMALISED_PAIRS[language]
    suffix = SUFFIXES[language]
    params = WinnowParams(k=8, window=2)

    first = fingerprint_tree([("a" + suffix, original)], params)
    second = fingerprint_tree([("b" + suffix, rewritten)], params)

    assert len(first) > 0
    assert list(first.hashes) == list(second.hashes)
    operator_changed = original.replace("width * height", "width + height")
    assert list(fingerprint_tree([("a" + suffix, operator_changed)], params).hashes) != list(
        first.hashes
    )


STATEMENTS = (
    "total = total + price",
    "if count > limit:",
    "    return None",
    "items.append(value)",
    "for key in table:",
    "    seen[key] = True",
    "name = str(record)",
    "while queue:",
    "    node = queue.pop()",
    "result = [x * 2 for x in values]",
)


@pytest.mark.parametrize("seed", range(20))
def test_a_shared_run_of_k_plus_window_minus_one_tokens_is_always_found(seed: int) -> None:
    rng = random.Random(seed)
    params = WinnowParams(k=6, window=4)
    # `a = (b, c, d, e)` on one line is 10 tokens, twice 20: over k + window - 1 = 9.
    shared = "shared_one = (alpha, beta, gamma, delta)\nshared_two = (eps, zeta, eta, theta)\n"

    def surrounded() -> str:
        before = "\n".join(rng.choice(STATEMENTS) for _ in range(rng.randint(0, 12)))
        after = "\n".join(rng.choice(STATEMENTS) for _ in range(rng.randint(0, 12)))
        return f"{before}\n{shared}{after}\n"

    match = compare(
        fingerprint_tree([("a.py", surrounded())], params),
        fingerprint_tree([("b.py", surrounded())], params),
    )

    assert match.shared >= 1


def test_fingerprints_keep_the_lines_they_came_from() -> None:
    code = _tree("python", "honest_a")["lending/search.py"]
    params = WinnowParams(k=5, window=1)

    plain = fingerprint_tree([("search.py", code)], params)
    shifted = fingerprint_tree([("search.py", "\n\n\n" + code)], params)

    assert list(shifted.start_lines) == [line + 3 for line in plain.start_lines]
    # The first k-gram is `from N . N import N`, on line 3 of the file.
    assert (plain.start_lines[0], plain.end_lines[0]) == (3, 3)


SKIPPED_PATHS = [
    "README.md",
    "docs/notes.txt",
    "config/settings.yaml",
    "data/fixture.json",
    "package-lock.json",
    "poetry.lock",
    "node_modules/left-pad/index.js",
    "vendor/github.com/lib/pq/conn.go",
    "dist/app.js",
    "build/lib/app.py",
    ".venv/lib/python3.11/site-packages/six.py",
    "app/__pycache__/module.py",
    "static/app.min.js",
    "src/types/index.d.ts",
    "proto/user_pb2.py",
]
KEPT_PATHS = [
    "app/main.py",
    "src/index.js",
    "src/App.jsx",
    "src/app.ts",
    "src/App.tsx",
    "src/Main.java",
    "cmd/main.go",
    "lib/app.rb",
    "src/main.c",
    "src/main.cpp",
    "src/Program.cs",
    "src/main.rs",
    "src/Main.kt",
    "src/index.php",
    "Sources/App.swift",
    "src/Main.scala",
    "db/schema.sql",
    "scripts/deploy.sh",
]
SOME_CODE = "x = compute(a, b)\nif x > 1:\n    y = [x, x + 1, x + 2]\n" * 5


@pytest.mark.parametrize("path", SKIPPED_PATHS)
def test_files_that_are_not_the_candidates_code_are_skipped(path: str) -> None:
    tree = fingerprint_tree([(path, SOME_CODE)])

    assert tree.files == ()
    assert len(tree) == 0


@pytest.mark.parametrize("path", KEPT_PATHS)
def test_source_files_of_programming_languages_are_fingerprinted(path: str) -> None:
    assert fingerprint_tree([(path, SOME_CODE)]).files == (path,)


@pytest.mark.parametrize(
    "text",
    [
        "var a=1;" * 200 + "\n",  # minified: one line of 1 600 characters
        "// Code generated by protoc-gen-go. DO NOT EDIT.\n" + SOME_CODE,
        "# @generated by a tool\n" + SOME_CODE,
    ],
)
def test_minified_and_generated_files_are_skipped(text: str) -> None:
    assert fingerprint_tree([("src/bundle.js", text)]).files == ()


def test_bytes_round_trip() -> None:
    tree = _fixture("typescript", "honest_a")

    data = tree.to_bytes()
    restored = TreeFingerprints.from_bytes(data)

    assert restored == tree
    assert restored.to_bytes() == data
    assert compare(restored, tree) == compare(tree, tree)


def test_an_empty_tree_stores_and_compares_as_nothing() -> None:
    empty = fingerprint_tree([])

    assert (empty.files, len(empty)) == ((), 0)
    assert TreeFingerprints.from_bytes(empty.to_bytes()) == empty
    assert compare(empty, empty) == PairMatch(0, 0.0, 0.0, ())
    assert compare(empty, _fixture("python", "honest_a")).score == 0.0


def test_the_same_tree_gives_the_same_bytes_in_another_process() -> None:
    files = _tree("python", "honest_b")
    script = (
        "import json, sys\n"
        "from app.similarity.fingerprints import fingerprint_tree\n"
        "files = json.load(sys.stdin)\n"
        "sys.stdout.write(fingerprint_tree(files).to_bytes().hex())\n"
    )
    # Another string-hash seed: Python's own hash of a str differs from process to process.
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(list(files.items())),
        capture_output=True,
        text=True,
        check=True,
        cwd=REPOSITORY_ROOT,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    )

    assert bytes.fromhex(result.stdout) == fingerprint_tree(files.items()).to_bytes()


def _rewrite(data: bytes, change: bytes) -> bytes:
    """Valid stored bytes with their body replaced, compressed again."""
    return data[:1] + zlib.compress(change)


def _malformed() -> list[bytes]:
    data = fingerprint_tree(_tree("python", "honest_a").items()).to_bytes()
    body = zlib.decompress(data[1:])
    k, window, files, count = struct.unpack_from("<HHII", body)
    return [
        b"",
        b"\x02" + data[1:],  # an unknown version
        data[:1] + b"not zlib at all",
        data[:-5],  # cut short
        _rewrite(data, body[:10]),  # header only
        _rewrite(data, body + b"\x00"),  # a byte too many
        _rewrite(data, struct.pack("<HHII", k, window, files, count + 1) + body[12:]),
        _rewrite(data, struct.pack("<HHII", 0, window, files, count) + body[12:]),
        _rewrite(data, struct.pack("<HHII", k, window, files + 9, count) + body[12:]),
        _rewrite(data, body.replace(b"lending/", b"\xff" * 7 + b"/", 1)),  # not UTF-8
        # The first fingerprint's file index (after the hashes) out of range.
        _rewrite(data, _patch(body, len(body) - 16 * count, struct.pack("<I", files))),
        # The first fingerprint's start line (after hashes, files, positions) set to 0.
        _rewrite(data, _patch(body, len(body) - 8 * count, struct.pack("<I", 0))),
    ]


def _patch(body: bytes, offset: int, value: bytes) -> bytes:
    return body[:offset] + value + body[offset + len(value) :]


@pytest.mark.parametrize("data", _malformed())
def test_malformed_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match=r"fingerprints|version"):
        TreeFingerprints.from_bytes(data)


def test_trees_made_with_other_parameters_are_not_compared() -> None:
    files = list(_tree("python", "honest_a").items())
    other = fingerprint_tree(files, WinnowParams(DEFAULT_PARAMS.k, DEFAULT_PARAMS.window + 1))

    with pytest.raises(ValueError, match="different parameters"):
        compare(fingerprint_tree(files), other)


def test_the_template_is_subtracted_before_storing() -> None:
    stored = TreeFingerprints.from_bytes(_fixture("python", "honest_a").to_bytes())

    with pytest.raises(ValueError, match="template"):
        stored.without(_template("python"))
