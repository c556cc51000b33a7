"""HTML to readable text, with selectolax's Lexbor parser (an HTML5 tree builder in C).

Run as a script it is the child process that parses one untrusted page (see
`_extract`): it reads ``{"html", "base_url"}`` as JSON on stdin and writes
``{"title", "text"}`` on stdout. It imports nothing from the project, so the
child starts in a few tens of milliseconds under ``python -I``.

What is kept: headings (as ``#`` lines), paragraphs, list items, table cells,
and link text with its absolute http(s) target as ``[text](url)``. What is
dropped: scripts, styles, templates, embedded documents, form controls, the head
(except the title), and anything hidden from a reader (``hidden``,
``aria-hidden``, inline ``display:none``), which is where pages hide text meant
for machines rather than people.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

_SKIPPED = frozenset(
    "script style noscript template svg math iframe object embed canvas head select datalist "
    "button input textarea audio video picture source track map".split()
)
_PARAGRAPHS = frozenset(
    "p blockquote pre table ul ol dl section article figure header footer main nav aside form "
    "details fieldset address hr".split()
)
_LINES = frozenset("div li tr dt dd figcaption summary caption br".split())
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class PageText:
    """A page's title and its readable text."""

    title: str | None
    text: str


class _Writer:
    """Accumulates inline text, turning block boundaries into at most one blank line."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self._breaks = 0
        self._space = False
        self._line_start = True
        self.preformatted = 0  # depth of <pre> elements we are inside

    def leave_pre(self) -> None:
        self.preformatted -= 1

    def text(self, value: str) -> None:
        preformatted = self.preformatted > 0
        if not preformatted:
            value = _SPACES.sub(" ", value)
            if value.strip() == "":
                self._space = self._space or (bool(value) and not self._line_start)
                return
            if value.startswith(" "):
                self._space = not self._line_start
                value = value.lstrip(" ")
        if not value:
            return
        if self._breaks and self.parts:
            self.parts.append("\n" * self._breaks)
            self._line_start = True
            self._space = False
        self._breaks = 0
        if self._space and not self._line_start:
            self.parts.append(" ")
        self._space = value.endswith(" ") and not preformatted
        self.parts.append(value.rstrip(" ") if not preformatted else value)
        self._line_start = value.endswith("\n")

    def block(self, newlines: int) -> None:
        self._breaks = max(self._breaks, newlines)
        self._space = False

    def mark(self) -> int:
        return len(self.parts)

    def link(self, mark: int, href: str) -> None:
        """Turn the text written since `mark` into a markdown link, if it is one line of text."""
        label = "".join(self.parts[mark:])
        if label.strip() and "\n" not in label:
            lead = " " if label.startswith(" ") else ""
            self.parts[mark:] = [f"{lead}[{label.strip()}]({href})"]

    def result(self) -> str:
        lines = (line.rstrip() for line in "".join(self.parts).splitlines())
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str, base_url: str) -> PageText:
    """The title and readable text of an HTML document.

    Args:
        html: The document (possibly cut short by the byte cap: the parser copes).
        base_url: The URL the document came from, to make link targets absolute.
    """
    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    title = " ".join(title_node.text(deep=True).split()) if title_node is not None else ""
    writer = _Writer()
    root = tree.body if tree.body is not None else tree.root
    # An explicit stack, not recursion: a hostile page can nest elements 100,000 deep.
    # Items are nodes to enter, or callables to run when an element's children are done.
    stack: list[LexborNode | Callable[[], None]] = [root] if root is not None else []
    while stack:
        item = stack.pop()
        if callable(item):
            item()
        elif item.is_text_node:
            writer.text(item.text_content or "")
        elif item.is_element_node and (item.tag or "") not in _SKIPPED and not _hidden(item):
            stack.extend(reversed(_enter(item, writer, base_url)))
            stack.extend(reversed(list(item.iter(include_text=True))))
    return PageText(title=title or None, text=writer.result())


def _enter(node: LexborNode, writer: _Writer, base_url: str) -> list[Callable[[], None]]:
    """Write what goes before an element's children; return what goes after them."""
    tag = node.tag or ""
    exits: list[Callable[[], None]] = []
    if tag in _HEADINGS:
        writer.block(2)
        writer.text("#" * _HEADINGS[tag] + " ")
        exits.append(partial(writer.block, 2))
    elif tag in _PARAGRAPHS or tag in _LINES:
        newlines = 2 if tag in _PARAGRAPHS else 1
        writer.block(newlines)
        exits.append(partial(writer.block, newlines))
    if tag == "li":
        writer.text("- ")
    elif tag in ("td", "th") and _follows_cell(node):
        writer.text(" | ")
    elif tag == "a":
        href = _absolute_http(node.attributes.get("href"), base_url)
        if href is not None:
            exits.append(partial(writer.link, writer.mark(), href))
    elif tag == "pre":
        writer.preformatted += 1
        exits.append(writer.leave_pre)
    return exits


def _hidden(node: LexborNode) -> bool:
    attributes = node.attributes
    if "hidden" in attributes or (attributes.get("aria-hidden") or "").lower() == "true":
        return True
    return bool(_HIDDEN_STYLE.search(attributes.get("style") or ""))


def _follows_cell(node: LexborNode) -> bool:
    sibling = node.prev
    while sibling is not None and not sibling.is_element_node:
        sibling = sibling.prev
    return sibling is not None and sibling.tag in ("td", "th")


def _absolute_http(href: str | None, base_url: str) -> str | None:
    if not href:
        return None
    try:
        absolute = urljoin(base_url, href.strip())
        scheme = urlsplit(absolute).scheme
    except ValueError:
        return None
    return absolute if scheme in ("http", "https") else None


def _child_main() -> None:
    """Parse one page from stdin under memory and CPU limits; the parent also kills us at its deadline."""
    import resource

    import orjson

    cpu_seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    request = orjson.loads(sys.stdin.buffer.read())
    page = html_to_text(request["html"], request["base_url"])
    sys.stdout.buffer.write(orjson.dumps({"title": page.title, "text": page.text}))


if __name__ == "__main__":
    _child_main()
