"""Where credentials are in a text: detect-secrets' regex plugins behind a one-pass pre-filter.

The plugins (detect-secrets 1.5) and why these:

- Kept: the detectors of fixed credential formats, each tied to a distinctive prefix or
  shape: AWS key ids (and a secret key quoted next to "aws"), Azure storage keys, URLs
  with a password (BasicAuth), GitHub, GitLab, JWT, Mailchimp, npm, OpenAI, PEM/PuTTY
  private keys, PyPI, SendGrid, Slack, Square, Stripe and Twilio; and KeywordDetector in
  its quotes-required form (``password = "..."``, ``"api_key": "..."``), which is how a
  secret sits in a config file or a JSON record.
- Left out: the two entropy detectors, which flag every digest, id and base64 blob
  (our own audit hashes and argument digests among them) and would mangle normal
  content; IPPublicDetector (an address is not a credential); ArtifactoryDetector,
  whose password pattern is any ``AP`` + 9 letters or digits, i.e. part numbers;
  Discord and Telegram, whose formats have no literal part to anchor on (three dotted
  base64 runs; digits, a colon and 35 characters), neither platform being part of this
  suite; and the IBM/Cloudant/SoftLayer assignment patterns, whose
  ``*_key = "..."``/``*password* = "..."`` shapes KeywordDetector already catches.
- Added (`_EXTRA`): formats detect-secrets 1.5 does not know and this suite is likely
  to hold: Anthropic and current OpenAI keys (``sk-...``), Stripe test keys and
  ``Bearer`` tokens.

Why it is cheap: the plugins cost about 1 ms per KB of text (KeywordDetector alone
0.8 ms), far too much for every result, and even one literal scan per plugin with
Python's `re` is ~17 passes, about 100 µs for an 8 KB result on a small machine.
So `_ANCHORS` lists, per plugin, a pattern that every match of the plugin implies,
and RE2 (a DFA: one pass whatever the number of patterns, no backtracking) decides
whether any of them occurs: about 7 µs for a 4 KB result. Only a string in which
an anchor fires is given to the plugins that anchor names. The plugins are imported
on first use: importing detect-secrets takes 0.1-0.2 s, which a stdio server's
start-up should not pay.

The anchors are written to hold on a JSON dump (orjson) of a value holding the text
too: where they involve a character JSON escapes (quotes, backslashes, white space,
control characters), they accept the escaped form as well.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any, cast

import re2

Span = tuple[int, int]
Finder = Callable[[str], list[Span]]

MIN_SECRET_CHARS = 7
"""Shorter strings hold nothing a kept plugin detects (the shortest are ``pwd:"x"`` and ``://u:p@``)."""

# White space, raw or as a JSON escape (\n, \u000b); the bytes Python's str \s and \w also
# match beyond ASCII are all >= 0x80 in UTF-8.
_WS = rb"(?:[\t-\r\x1c-\x20\x80-\xff]|\\[a-z0-9]{1,5})"
_WORD = rb"[0-9A-Za-z_\x80-\xff]"
_STEMS = rb"(?:pass|pwd|key|secret|contrase)"  # a part of every word in KeywordDetector's DENYLIST

# (anchor, the plugins it stands for); RE2 syntax over Latin-1 bytes (one byte, one character).
_ANCHOR_SOURCES: tuple[tuple[bytes, tuple[str, ...]], ...] = (
    (rb"A(?:KIA|SIA|BIA|CCA|3T[A-Z0-9]|C[a-z0-9]{32}|ccountKey=)", ("aws", "twilio", "azure")),
    (rb"S(?:K[a-z0-9]{32}|G\.)", ("twilio", "sendgrid")),
    (rb"P(?:RIVATE KEY|uTTY-User-Key-File)", ("private_key",)),
    (rb"eyJ", ("jwt",)),
    (rb"[rs]k_live_", ("stripe",)),
    (rb"[rs]k_test_|Bearer |sk-", ("extra",)),
    (rb"sk-", ("openai",)),
    (rb"_authToken", ("npm",)),
    (rb"gh[pousr]_", ("github",)),
    (rb"-us[0-9]", ("mailchimp",)),
    (rb"pypi-AgE", ("pypi",)),
    (rb"sq0csp-", ("square",)),
    (rb"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-|GR1348941", ("gitlab",)),
    (rb"://[^\s:/?#\[\]@!$&'()*+,;=]+:[^\s:/?#\[\]@!$&'()*+,;=]+@", ("basic_auth",)),
    (rb"(?i:xox[abposr]-|hooks\.slack\.com)", ("slack",)),
    # AWSKeyDetector's second pattern, widened for escaped quotes and newlines.
    (rb"(?i:aws.{0,40}?(?:key|pwd|pw|pass|token).{0,40}?['\"][0-9a-z/+]{40}\\?['\"])", ("aws",)),
    # KeywordDetector's forms: a keyword, the rest of its word and closing quotes, then an
    # assignment or comparison; a keyword, then a quoted value and a semicolon; a comparison
    # before the keyword (`"..." == password`).
    (rb"(?i:" + _STEMS + _WORD + rb"*[\]'\"\\]{0,4}" + _WS + rb"*[:=!])", ("keyword",)),
    (rb"(?i:" + _STEMS + rb"[^\t-\r ]{0,100}?" + _WS + rb"*\\?['\"`][^'\"`]*['\"`];)", ("keyword",)),
    (rb"(?i:[!=]{2,3}" + _WS + rb"*" + _WORD + rb"*?" + _STEMS + rb")", ("keyword",)),
)


def any_of(sources: Iterable[bytes]) -> Callable[[bytes], bool]:
    """One RE2 pass over Latin-1 bytes that tells whether any of `sources` occurs."""
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    options.never_capture = True
    compiled = re2.compile(b"|".join(b"(?:%s)" % source for source in sources), options)
    # The pybind11 object under `re2.compile`'s pure-Python wrapper: the wrapper's
    # generator and match object cost 2 µs a call, more than the scan of a small value.
    match = compiled._regexp.Match
    unanchored = re2._re2.RE2.Anchor.UNANCHORED
    no_match = (-1, -1)

    def occurs(data: bytes) -> bool:
        return bool(match(unanchored, data, 0, len(data))[0] != no_match)

    return occurs


ANCHOR_SOURCES = tuple(source for source, _ in _ANCHOR_SOURCES)
may_hold_secret = any_of(ANCHOR_SOURCES)
"""Whether any anchor occurs in the bytes: UTF-8 text, or a JSON dump of values holding text."""
_ANCHORS = tuple((any_of([source]), names) for source, names in _ANCHOR_SOURCES)

_EXTRA = (
    re.compile(r"\bsk-[A-Za-z0-9_\-]{20,}"),  # Anthropic (sk-ant-...), OpenAI project and service keys
    re.compile(r"\b[rs]k_test_[0-9A-Za-z]{16,}"),  # Stripe test keys: still keys to an account
    re.compile(r"(?<=Bearer )[A-Za-z0-9._~+/\-]{16,}=*"),
)
# A whole key block, not only the header line PrivateKeyDetector matches: the base64 body is the secret.
_KEY_BLOCKS = (
    re.compile(
        r"(?:-{2,5} ?)?BEGIN (?P<kind>[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)(?: ?-{2,5})?"
        r"[\s\S]*?(?:(?:-{2,5} ?)?END (?P=kind)(?: ?-{2,5})?|\Z)"
    ),
    re.compile(r"PuTTY-User-Key-File-\d[\s\S]*?(?:Private-MAC: *[0-9A-Fa-f]+|\Z)"),
)
_JWT_TAIL = re.compile(r"[A-Za-z0-9\-_.+/=]*")
_STEM_IN_LINE = re.compile(r"pass|pwd|key|secret|contrase", re.IGNORECASE)
_COMPARED_VALUE_CHARS = 256  # how far before a keyword the quoted value of `"..." == password` is looked for


def secret_spans(text: str) -> list[Span]:
    """The character spans of `text` that hold credentials, sorted and merged."""
    if len(text) < MIN_SECRET_CHARS:
        return []
    data = text.encode("utf-8", "surrogatepass")
    if not may_hold_secret(data):
        return []
    fired = sorted({name for occurs, names in _ANCHORS if occurs(data) for name in names})
    finders = _finders()
    view = _unescaped_view(text)
    spans = [span for name in fired for span in finders[name](view)]
    if view is not text:
        # A span must not end on the backslash of a following escape (`...77\\"`): that would
        # leave a dangling quote and break the JSON the text is.
        spans = [(start, end - 1) if text[end - 1] == "\\" else (start, end) for start, end in spans]
    return _merged([span for span in spans if span[1] > span[0]])


def _unescaped_view(text: str) -> str:
    """`text` with JSON escapes of quotes and newlines undone, at the same length.

    A tool's text content is often its result as JSON, where `password = "x"` arrives
    as `password = \\"x\\"` and a PEM block's line breaks as `\\n`; detectors that need
    the quote or the line break would miss them. Each two-character escape becomes a
    space and the character itself, so every span found in the view is the same span
    in `text`.
    """
    if "\\" not in text:
        return text
    return text.replace('\\"', ' "').replace("\\n", " \n")


def _merged(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _regex_finder(
    patterns: Iterable[re.Pattern[str]],
    *,
    groups: dict[int, int] | None = None,
    valid: Callable[[str], bool] | None = None,
) -> Finder:
    """Spans of each pattern's matches; `groups` names, per pattern index, the group that is the secret."""
    compiled = [(pattern, (groups or {}).get(index, 0)) for index, pattern in enumerate(patterns)]

    def find(text: str) -> list[Span]:
        spans: list[Span] = []
        for pattern, group in compiled:
            for match in pattern.finditer(text):
                start, end = match.span(group)
                if start >= 0 and end > start and (valid is None or valid(match.group(0))):
                    spans.append((start, end))
        return spans

    return find


def _private_key_spans(detector_patterns: Iterable[re.Pattern[str]]) -> Finder:
    plain = _regex_finder(detector_patterns)

    def find(text: str) -> list[Span]:
        headers = plain(text)
        if not headers:
            return []
        blocks = [match.span() for pattern in _KEY_BLOCKS for match in pattern.finditer(text)]
        # A header no block pattern covers (no BEGIN line) is still redacted itself.
        return blocks + [h for h in headers if not any(s <= h[0] and h[1] <= e for s, e in blocks)]

    return find


def _jwt_spans(patterns: Iterable[re.Pattern[str]], valid: Callable[[str], bool]) -> Finder:
    plain = _regex_finder(patterns, valid=valid)

    def find(text: str) -> list[Span]:
        # The plugin's pattern stops lazily before the signature; the whole token is the secret.
        spans = []
        for start, end in plain(text):
            tail = _JWT_TAIL.match(text, end)
            spans.append((start, tail.end() if tail else end))
        return spans

    return find


def _keyword_spans(followed_by: list[tuple[re.Pattern[str], int]], preceded_by: tuple[re.Pattern[str], int]) -> Finder:
    """KeywordDetector's patterns, tried only next to each keyword, within its line.

    Its patterns are slow (about 0.8 µs per byte searched), so they are not searched
    through the text: those that start with the keyword are matched at the few places
    a keyword can start, and the comparison form in a window before it. KeywordDetector
    reads one line at a time, so a match never crosses a line end here either.
    """
    comparison, comparison_group = preceded_by

    def find(text: str) -> list[Span]:
        spans: list[Span] = []
        for stem in _STEM_IN_LINE.finditer(text):
            line_start = text.rfind("\n", 0, stem.start()) + 1
            line_end = text.find("\n", stem.end())
            line_end = len(text) if line_end < 0 else line_end
            # A DENYLIST word has at most 9 characters before its stem ("database_pass").
            for start in range(max(line_start, stem.start() - 9), stem.start() + 1):
                for regex, group in followed_by:
                    match = regex.match(text, start, line_end)
                    if match is not None and match.end(group) > match.start(group) >= 0:
                        spans.append(match.span(group))
            # The keyword word runs at most 4 characters past its stem ("pass" in "password").
            offset = max(line_start, stem.start() - _COMPARED_VALUE_CHARS)
            for match in comparison.finditer(text[offset : min(line_end, stem.end() + 4)]):
                if match.end(comparison_group) > match.start(comparison_group) >= 0:
                    spans.append((offset + match.start(comparison_group), offset + match.end(comparison_group)))
        return spans

    return find


def _denylist(plugin: Any) -> list[re.Pattern[str]]:
    return list(cast(Iterable[re.Pattern[str]], plugin.denylist))


@functools.cache
def _finders() -> dict[str, Finder]:
    """The kept plugins, by anchor name (imported here, on first use: see the module docstring)."""
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
    from detect_secrets.plugins.basic_auth import BasicAuthDetector
    from detect_secrets.plugins.github_token import GitHubTokenDetector
    from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
    from detect_secrets.plugins.jwt import JwtTokenDetector
    from detect_secrets.plugins.keyword import (
        PRECEDED_BY_EQUAL_COMPARISON_SIGNS_QUOTES_REQUIRED_REGEX,
        QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP,
    )
    from detect_secrets.plugins.mailchimp import MailchimpDetector
    from detect_secrets.plugins.npm import NpmDetector
    from detect_secrets.plugins.openai import OpenAIDetector
    from detect_secrets.plugins.private_key import PrivateKeyDetector
    from detect_secrets.plugins.pypi_token import PypiTokenDetector
    from detect_secrets.plugins.sendgrid import SendGridDetector
    from detect_secrets.plugins.slack import SlackDetector
    from detect_secrets.plugins.square_oauth import SquareOAuthDetector
    from detect_secrets.plugins.stripe import StripeDetector
    from detect_secrets.plugins.twilio import TwilioKeyDetector

    comparison = PRECEDED_BY_EQUAL_COMPARISON_SIGNS_QUOTES_REQUIRED_REGEX  # the one form the value comes first in
    return {
        # The second AWS pattern and BasicAuth's and npm's match their context too
        # ("aws_secret = '...'", "://user:...@"): only the group is the secret.
        "aws": _regex_finder(_denylist(AWSKeyDetector), groups={1: 1}),
        "azure": _regex_finder(_denylist(AzureStorageKeyDetector)),
        "basic_auth": _regex_finder(_denylist(BasicAuthDetector), groups={0: 1}),
        "github": _regex_finder(_denylist(GitHubTokenDetector)),
        "gitlab": _regex_finder(_denylist(GitLabTokenDetector)),
        "jwt": _jwt_spans(_denylist(JwtTokenDetector), JwtTokenDetector.is_formally_valid),
        "keyword": _keyword_spans(
            [(r, g) for r, g in QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP.items() if r is not comparison],
            (comparison, QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP[comparison]),
        ),
        "mailchimp": _regex_finder(_denylist(MailchimpDetector)),
        "npm": _regex_finder(_denylist(NpmDetector), groups={0: 1}),
        "openai": _regex_finder(_denylist(OpenAIDetector)),
        "private_key": _private_key_spans(_denylist(PrivateKeyDetector)),
        "pypi": _regex_finder(_denylist(PypiTokenDetector)),
        "sendgrid": _regex_finder(_denylist(SendGridDetector)),
        "slack": _regex_finder(_denylist(SlackDetector)),
        "square": _regex_finder(_denylist(SquareOAuthDetector)),
        "stripe": _regex_finder(_denylist(StripeDetector)),
        "twilio": _regex_finder(_denylist(TwilioKeyDetector)),
        "extra": _regex_finder(_EXTRA),
    }
