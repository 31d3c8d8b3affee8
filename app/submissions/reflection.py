"""The Day 5 reflection (SPEC §11.3): five sections, stored as JSON and rendered as Markdown.

The Markdown gives each section a level-2 heading in a fixed order and the candidate's text
as written under it. A section must not be able to pass for another in that Markdown, so its
text may not make a level-1 or level-2 heading of its own (`#`, `##`, a line underlined with
`=` or `-`, `<h1>`/`<h2>`) nor leave a code fence or HTML block open that would swallow the
next section's heading. This is checked by parsing with a CommonMark parser, so a `##` inside
a closed code fence is fine. The JSON stays the authority on which text is which section.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from markdown_it import MarkdownIt
from markdown_it.token import Token

# Wire name → heading, in the order the Markdown shows them.
SECTION_TITLES: dict[str, str] = {
    "challenges": "Challenges",
    "decisions": "Decisions",
    "tradeoffs": "Trade-offs",
    "communication": "Communication",
    "nextSteps": "Next steps",
}
STRUCTURE_MESSAGE = (
    "must not contain a level 1 or 2 heading (use ### and below) "
    "nor leave a code fence or HTML block open"
)

_PARSER = MarkdownIt("commonmark")
_END = "end"
_HTML_HEADING = re.compile(r"<h[12][\s/>]", re.IGNORECASE)


def render(sections: Mapping[str, str]) -> str:
    """The Markdown of a reflection whose sections (wire names) passed `keeps_structure`."""
    return "\n\n".join(f"## {title}\n\n{sections[name]}" for name, title in SECTION_TITLES.items())


def keeps_structure(text: str) -> bool:
    """Whether `text` under a section heading ends before the next heading and makes none
    of that level itself: followed by a heading, exactly that heading is the one it meets."""
    tokens = _PARSER.parse(f"{text}\n\n## {_END}\n")
    # Only top-level headings: one in a quote or a list shows as quoted or listed.
    headings = [
        t for t in tokens if t.type == "heading_open" and t.tag in ("h1", "h2") and t.level == 0
    ]
    last = tokens[-3:]
    if len(headings) != 1 or headings[0] is not last[0] or last[1].content != _END:
        return False
    return not any(_HTML_HEADING.search(t.content) for t in _html(tokens))


def _html(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        if token.type in ("html_block", "html_inline"):
            yield token
        yield from _html(token.children or [])
