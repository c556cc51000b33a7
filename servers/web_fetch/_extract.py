"""Running the HTML parser on an untrusted page in a child process that the deadline can kill.

Parsing is where a hostile page can hurt: an HTML5 tree builder spends time in
proportion to nesting depth for every tag (Lexbor takes about a minute for a
megabyte of ``<div>``), and a C parser that crashes takes its process with it.
A thread cannot be stopped, so the page is parsed in a ``python -I`` child with
memory and CPU limits; when the fetch's deadline passes, anyio kills it.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import anyio
import orjson

from servers.web_fetch._errors import FetchError
from servers.web_fetch._html import PageText

_PARSER_SCRIPT = Path(__file__).with_name("_html.py")


async def html_to_text_isolated(html: str, base_url: str, *, cpu_seconds: float) -> PageText:
    """`html_to_text` in a child process; cancel the calling scope to kill it.

    Raises:
        FetchError: the child failed (crashed, or ran out of memory or CPU time).
    """
    command = [sys.executable, "-I", str(_PARSER_SCRIPT), str(math.ceil(cpu_seconds))]
    payload = orjson.dumps({"html": html, "base_url": base_url})
    completed = await anyio.run_process(command, input=payload, check=False)
    if completed.returncode != 0:
        raise FetchError("the page could not be turned into text (the HTML parser gave up on it)")
    result = orjson.loads(completed.stdout)
    return PageText(title=result["title"], text=result["text"])
