"""Links to existing work: what counts as a valid link, and when two links are the same work."""

from __future__ import annotations

import ipaddress
import re
import string
import unicodedata
from urllib.parse import parse_qsl, quote, unquote_plus, unquote_to_bytes, urlencode, urlsplit, urlunsplit

import idna

from commands.types import CommandError
from storage.text import bracketed, clip, without_tail

# A link as platforms send it keeps these characters; every other one goes percent-encoded (each
# of its UTF-8 bytes as %XX). Parentheses are not kept: they would end a markdown link.
URL_KEPT = "/:?#[]@!$&'*+,;=%~-._"
# The longest link as sent: it must show whole and clickable on every platform (on Discord, in
# a 1,024-character embed field beside its label).
MAX_LINK = 900
# The longest link with each & written as Slack's markup must write it (``&amp;``): it must fit
# whole, beside a label, in one of Slack's 3,000-character texts. Only a link made mostly of
# &s (over 475 of them) is longer.
MAX_LINK_MARKUP = 2800
TRACKING_PARAMS = {
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "ref",
    "ref_src",
    "si",
    "igshid",
    "usp",  # Google Docs / Colab: how the link was shared (?usp=sharing), not which document
}
# The tracking parameters a submitted link is stored and shown without (with every utm_*): they
# say who shared the link or which ad led to it, never which page it is. ``ref``, ``usp`` and
# ``si`` are left as typed: some sites read them (a GitHub branch, a Google Docs view, a
# share), so they only do not count when links are compared.
STRIPPED_PARAMS = {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ref_src"}
ARXIV_ID = re.compile(
    r"^/(?:abs|pdf|html)/(?P<id>(?:\d{4}\.\d{4,5})|(?:[a-z\-]+(?:\.[A-Z]{2})?/\d{7}))(?:v\d+)?(?:\.pdf)?/?$"
)

# LessWrong's posts are the same posts on the Alignment Forum and on GreaterWrong, under one id
# of 17 letters and digits: /posts/<id>, with the title's slug or without, or /s/<sequence>/p/<id>
# in a sequence. A comment (/posts/<id>/<slug>/comment/…, ?commentId=…) stays its own work.
# storage/migrations/versions/*_0015_* keys the links stored before this under the same rule.
FORUM_HOSTS = {"lesswrong.com", "alignmentforum.org", "greaterwrong.com"}
FORUM_POST = re.compile(r"^/(?:posts|s/[^/]+/p)/(?P<id>[A-Za-z0-9]{17})(?:/[^/]*)?/*$")

# A path is sent as bytes, each written as itself or as %XX: these characters (RFC 3986's
# unreserved ones) mean the same either way; a reserved one (/, +, ;…) may mean something else
# escaped (a/b is two segments, a%2Fb one), so it is kept as written.
UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
# What browsers escape in a path as they send it, with every letter beyond ASCII (as its UTF-8
# bytes): /café is sent as /caf%C3%A9, /{x} as /%7Bx%7D.
SENT_ESCAPED = frozenset('"<>`{} ')
ESCAPE = re.compile(r"(%[0-9A-Fa-f]{2})")
# Letters of a path as path_key spells them: unreserved characters and the bytes beyond ASCII.
# Only these are composed (NFC): é typed as one letter or as e and an accent (as macOS may
# paste it) is one letter; a reserved character or one browsers escape ends a run, so it is
# never part of one (= and a stroke stay two characters, not ≠).
LETTERS = re.compile(r"(?:[A-Za-z0-9._~-]|%[89A-F][0-9A-F])+")
# GitHub's owner and repository names (letters, digits, - . _) do not depend on case, and a
# repository's address ends in .git or not; what follows them (a branch, a file's path) does.
# storage/migrations/versions/*_0016_* keys the links stored before this (and those with their
# path escaped another way) under the same rules.
GITHUB_NAME = re.compile(r"[A-Za-z0-9._-]+")
# The same names on raw.githubusercontent.com (/owner/repository/branch/file: GitHub serves a file
# there whatever the case of its owner's and repository's names, while the branch and the file's
# path keep theirs; no .git is written there, so none is dropped), and on gist.github.com
# (/user/id/…): a user's name does not depend on case, and a gist's id is hex, which GitHub writes
# in lower case. Not a gist's raw files (gist.githubusercontent.com), nor a gist's address without
# its user (gist.github.com/id): which user's it is is not known here.
# storage/migrations/versions/*_0017_* keys the links stored before this under these rules.
RAW_GITHUB_HOST = "raw.githubusercontent.com"
# A file on raw.githubusercontent.com under /owner/repository/refs/heads/<branch>/… (as GitHub's Raw
# button links it) is the file under /owner/repository/<branch>/…, which GitHub serves alike: one
# work. Only these two segments, right after the repository, in this case; a tag (refs/tags/…) is
# left as it is. storage/migrations/versions/*_0018_* keys the links stored before this so.
RAW_BRANCH_REF = ["refs", "heads"]
GIST_HOST = "gist.github.com"
HEX = re.compile(r"[0-9A-Fa-f]+")
# A query's names and values are form-decoded (+ and %20 a space, %2F and / one character, while
# & and = split them), so escaping does not matter in them; their letters beyond ASCII are
# composed as a path's are (:func:`nfc_beyond_ascii`), in runs of unreserved characters and
# letters beyond ASCII (= and a stroke stay two characters, not a ≠); their case counts.
# storage/migrations/versions/*_0017_* keys the links stored before this under the same rule.
QUERY_LETTERS = re.compile(r"[A-Za-z0-9._~\-\u0080-\U0010ffff]+")
# How a query's bytes that are no UTF-8 (``?q=%FF``, a letter cut short) are decoded and encoded
# again: each as itself (a lone surrogate between, which nothing composes), so ``?q=%FF`` and
# ``?q=%FE`` stay two queries, and neither is the replacement character (``?q=%EF%BF%BD``).
# storage/migrations/versions/*_0018_* keys the links stored before this under the same rule.
NO_UTF8 = "surrogateescape"


# An http(s) address inside free text (the sheet's "Existing work" cells): up to whitespace or a
# character that cannot be part of a link as written there (quotes, angle brackets).
LINK_IN_TEXT = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
# What ends a sentence or a list around a link rather than the link itself.
TRAILING = ".,;:!?*]}"


# A host name as it may be written in a link, in ASCII (an IPv6 address without its brackets).
HOST = re.compile(r"[a-z0-9._:-]+")


class BadLink(CommandError):
    """A link that is not an http(s) address of a page."""


class BadHost(ValueError):
    """A host that is no domain name, for a reason worth telling the member (its message)."""


# The longest domain name as browsers look it up, in ASCII (its xn-- form), without a last dot.
MAX_HOST = 253


def check_link(raw: str) -> str:
    """The link as given, trimmed, if it is an http or https URL with a host; else BadLink."""
    link = raw.strip()
    if link.startswith("<") and link.endswith(">"):
        # As chat markup writes a link: <https://…> (Discord's without a preview), and Slack's
        # <https://…|label>, whose label is no part of it.
        link = link[1:-1].partition("|")[0].strip()
    # What ends the sentence around it (``/submit 2.4 https://x.org/a, my notes``) is no part of
    # it, as every platform links it, and as links_in reads the links of existing work.
    link = without_tail(link, TRAILING)
    # Angle brackets left inside (…?q=<x>) are not a link's: as a browser sends them.
    link = link.replace("<", "%3C").replace(">", "%3E")
    if not link:
        raise BadLink(f"Give a link, e.g. {SUBMIT_EXAMPLE}")
    if len(link) > MAX_LINK or len(quote(link, safe=URL_KEPT)) > MAX_LINK:
        raise BadLink(
            f"That link is too long: at most {MAX_LINK} characters as sent (a letter outside "
            "A-Z counts as its %XX codes, 6 or more). Try a shorter link to the same page."
        )
    if len(quote(link, safe=URL_KEPT)) + 4 * link.count("&") > MAX_LINK_MARKUP:
        raise BadLink(
            f"That link has too many & signs ({link.count('&')}) to show whole on Slack, which "
            "writes each one as 5 characters. Try a shorter link to the same page."
        )
    if any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in link):
        raise BadLink("A link cannot contain spaces or control characters.")
    if (slip := SCHEME_SLIP.fullmatch(link)) and slip.group(2) != "://":
        # https:/example.org/x, https//example.org/x: the link written right, to copy.
        fixed = f"{slip.group(1).lower()}://{slip.group(3)}"
        mistyped = (
            f"That link's {slip.group(1).lower()}:// is mistyped ({slip.group(1)}{slip.group(2)}). Fix it"
        )
        if (answer := _corrected(fixed, mistyped)) is not None:
            raise BadLink(answer)
    try:
        parts = urlsplit(link)
        port = parts.port
    except ValueError:
        raise BadLink("That is not a valid link.") from None
    if not parts.scheme or HOST_PORT.match(link):  # example.org/post, localhost:8888/tree
        raise BadLink(_without_scheme(link))
    if parts.scheme.lower() not in {"http", "https"}:
        raise BadLink(f"Only http:// and https:// links can be submitted ({parts.scheme}: was given).")
    host = parts.hostname or ""
    if not host or "." not in host.strip(".") and host != "localhost":
        raise BadLink("That link has no host; it should look like https://example.org/page.")
    if port == 0:
        raise BadLink("That link's port is not valid.")
    if "@" in parts.netloc:
        # https://arxiv.org@evil.example/… reads as arXiv and goes to evil.example.
        raise BadLink(
            f"That link goes to {host}, not to what comes before the @ in it. Give the page's own "
            "address, without a name or password before its host."
        )
    try:
        ascii_name = ascii_host(host)
    except BadHost as exc:  # a reason the member can act on
        raise BadLink(f"That link's host is not a valid domain name: {exc}.") from None
    except ValueError:
        ascii_name = ""
    if not HOST.fullmatch(ascii_name):  # %40, a backslash: read one way here, another by browsers
        raise BadLink("That link's host is not a valid domain name.")
    if ascii_name != host:
        # The host as browsers send it (xn--…): Cyrillic "а" in "аrxiv.org" reads as arXiv and
        # is another site. Only the host changes; the rest stays as given.
        start = link.index(parts.netloc)
        netloc = ascii_name + (f":{port}" if port is not None else "")
        link = link[:start] + netloc + link[start + len(parts.netloc) :]
    return link


# Text that starts as a link copied without its scheme does: a domain name (its last label letters,
# as every top-level domain's are), then a port, path, query or fragment or nothing. A problem's
# number (2.4) or a word is no such thing.
BARE_LINK = re.compile(r"(?://)?(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}\.?(?::\d+)?(?:[/?#].*)?")
# A host and its port written without a scheme (localhost:8888/tree, example.org:8080/x), which
# urlsplit reads as a scheme ("localhost:") followed by a path.
HOST_PORT = re.compile(r"[\w.-]+:\d+(?:[/?#]|$)")
SUBMIT_EXAMPLE = "/submit 2.4 https://example.org/my-post"
# A link whose :// is mistyped (https:/example.org, https//example.org, https:example.org,
# https:///example.org): its scheme, what follows it as typed (a colon or a slash at least: a
# host that begins with "http", httpbin.org, is none), then the rest, from the host on.
SCHEME_SLIP = re.compile(r"(https?)(:?/*)(?<=[:/])(?!/)(.+)", re.IGNORECASE)


def _without_scheme(text: str) -> str:
    """Why ``text``, given without http:// or https://, is refused, said so its submitter knows
    what to type: the link with https:// added when that makes one, else that it is no link."""
    if BARE_LINK.fullmatch(text) or HOST_PORT.match(text):
        fixed = "https://" + text.removeprefix("//")
        if (answer := _corrected(fixed, "That link has no https:// in front. Add it")) is not None:
            return answer
    return f"{clip(text, 61)!r} is not a link: give the page's whole address, e.g. {SUBMIT_EXAMPLE}"


def _corrected(fixed: str, mistake: str) -> str | None:
    """The answer to a link that ``fixed`` writes right: ``mistake`` (what is wrong, and what to
    do), then ``fixed`` to copy; why nobody else could open it, when so (localhost:8888/tree: no
    scheme makes it open for others); None when ``fixed`` is no link either. Nothing is submitted."""
    try:
        check_link(fixed)
    except BadLink:
        return None
    try:
        check_public(fixed)
    except BadLink as local:
        return str(local)
    return f"{mistake} and submit again: {fixed}"


# Names that reach only the submitter's own computer or home/company network: a Jupyter server at
# localhost:8888, a laptop's name.local. Nobody else can open such a link.
LOCAL_NAMES = ("localhost",)
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


def check_public(link: str) -> None:
    """BadLink when ``link`` (checked by :func:`check_link`) goes to a host only its submitter
    can reach: localhost, a private, loopback or link-local address, a local network's name."""
    host = (urlsplit(link).hostname or "").rstrip(".")
    try:
        local = not ipaddress.ip_address(host).is_global
    except ValueError:  # a name, not an address
        local = host in LOCAL_NAMES or host.endswith(LOCAL_SUFFIXES)
    if local:
        raise BadLink(
            f"That link goes to {host}, which only opens on your own computer or network: nobody "
            "else can follow it. Share the work where others can read it (a post, a repository, "
            "a paper, a shared notebook) and submit that link."
        )


def ascii_host(host: str) -> str:
    """A host name as browsers look it up: letters beyond ASCII in their IDNA form (``xn--…``),
    as the URL standard reads them (UTS #46, non-transitional, without STD3 rules: ``faß.de``
    keeps its ß, ``i❤.ws`` is ``xn--i-7iq.ws``); ValueError if it is not a valid domain name.

    idna's own encode also holds each label to IDNA2008, which has no symbols, so it refuses the
    hosts with an emoji that browsers go to; its UTS #46 table and label checks are used here
    instead: a code point UTS #46 disallows, an empty label, a Unicode label marked ``xn--``, one
    opening with a combining mark, a joiner out of place, a broken bidi rule or a label over 63
    characters is no domain name. Every host, ASCII or not, is held to the same rules once in
    ASCII: each label from 1 to 63 characters, an ``xn--`` label one that decodes to a valid
    label, and the whole at most 253 characters (:class:`BadHost` says which failed)."""
    if host.isascii():
        labels = host.lower().split(".")
    else:
        labels = idna.uts46_remap(host, std3_rules=False, transitional=False).split(".")
    trailing = labels[-1] == "" and len(labels) > 1  # a last dot (example.org.) names the same host
    if trailing:
        labels.pop()
    ascii_labels = []
    for label in labels:
        if not label.isascii():
            if label.lower().startswith("xn--"):
                raise ValueError(f"{label!r} is marked as punycode and is not")
            _check_label(label)
            label = "xn--" + label.encode("punycode").decode("ascii")
        elif label.startswith("xn--"):
            _check_encoded(label)
        if not 0 < len(label) <= 63:
            raise ValueError("a label is empty or longer than 63 characters")
        ascii_labels.append(label)
    name = ".".join(ascii_labels)
    if len(name) > MAX_HOST:
        raise BadHost(
            f"it is {len(name)} characters long as browsers look it up (letters beyond A-Z written "
            f"as xn--…), and a domain name has at most {MAX_HOST}"
        )
    return name + ("." if trailing else "")


def _check_label(label: str) -> None:
    """ValueError unless a Unicode label passes UTS #46's label checks (see :func:`ascii_host`)."""
    idna.check_initial_combiner(label)
    idna.check_bidi(label)
    if any(ch in "\u200c\u200d" and not idna.valid_contextj(label, i) for i, ch in enumerate(label)):
        raise ValueError(f"a joiner is out of place in {label!r}")


def _check_encoded(label: str) -> None:
    """BadHost unless an ``xn--`` label decodes to a label browsers would write that way: one
    beyond ASCII that UTS #46 leaves as it is and whose checks it passes (as the URL standard
    decodes and checks such labels; a browser refuses the link otherwise)."""
    try:
        decoded = label[4:].encode("ascii").decode("punycode")
        valid = not decoded.isascii() and (
            idna.uts46_remap(decoded, std3_rules=False, transitional=False) == decoded
        )
        if valid:
            _check_label(decoded)
    except ValueError:  # UnicodeError and idna's errors among them
        valid = False
    if not valid:
        raise BadHost(f"its part {label} is marked as an encoded name (xn--) but does not decode to one")


def _tracking(parameter: str) -> bool:
    """Whether a query's ``key=value`` (as written) is a tracking parameter to store without."""
    key = unquote_plus(parameter.partition("=")[0]).strip().lower()
    return key.startswith("utm_") or key in STRIPPED_PARAMS


def without_tracking(link: str) -> tuple[str, list[str]]:
    """``link`` without its tracking parameters (utm_*, fbclid, gclid…: :data:`STRIPPED_PARAMS`),
    and the names of those it dropped. Everything else stays as typed: the other parameters in
    their order and spelling, the fragment, the rest of the link; a ``?`` left with nothing
    after it goes too."""
    base, hashed, fragment = link.partition("#")
    address, asked, query = base.partition("?")
    if not asked:
        return link, []
    parameters = query.split("&")
    dropped = [p.partition("=")[0] for p in parameters if _tracking(p)]
    if not dropped:
        return link, []
    kept = "&".join(p for p in parameters if p and not _tracking(p))
    return address + ("?" + kept if kept else "") + hashed + fragment, dropped


def normalise_link(link: str) -> str:
    """A key under which the same work has one spelling.

    http and https, host case and ``www.``, default ports, trailing slashes, fragments, tracking
    parameters, the order of query parameters, how the path is percent-encoded and whether its
    letters are composed (:func:`path_key`), and its ``.`` and ``..`` segments
    (:func:`without_dot_segments`) do not matter; arXiv's abs, pdf and versioned links of one paper are one
    paper, a LessWrong post is one post on the Alignment Forum and GreaterWrong, slug or none
    (:data:`FORUM_POST`), and a GitHub repository is one whatever the case of its owner's and
    its name, with .git or without, as is a file of it on raw.githubusercontent.com (under
    ``refs/heads/<branch>`` or ``<branch>``) and a gist whatever the case of its user's name and
    hex id (:func:`github_path`); a query's names and values are compared form-decoded, their
    letters composed (:func:`query_text_key`), each byte that is no UTF-8 kept as itself
    (:data:`NO_UTF8`).
    """
    parts = urlsplit(link.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    try:  # münchen.de and xn--mnchen-3ya.de are one host
        host = ascii_host(host)
    except ValueError:
        pass
    host = host.removeprefix("www.")
    path = re.sub(r"/+$", "", without_dot_segments(path_key(parts.path)))
    if host in {"arxiv.org", "export.arxiv.org"}:
        match = ARXIV_ID.match(path)
        if match:
            return f"arxiv:{match.group('id').lower()}"
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    query = [
        (query_text_key(key), query_text_key(value))
        for key, value in parse_qsl(parts.query, keep_blank_values=True, errors=NO_UTF8)
        if not key.lower().startswith("utm_") and key.lower() not in TRACKING_PARAMS
    ]
    query_text = urlencode(sorted(query), errors=NO_UTF8)
    if host in FORUM_HOSTS and not port and (post := FORUM_POST.match(path)):
        return f"lesswrong:{post['id']}" + (f"?{query_text}" if query_text else "")
    if host in {"github.com", RAW_GITHUB_HOST, GIST_HOST} and not port:
        path = github_path(path, host)
    return urlunsplit(("", host + port, path, query_text, "")).removeprefix("//")


def path_key(path: str) -> str:
    """A link's path in one spelling of the bytes it is sent as: an unreserved character
    (:data:`UNRESERVED`) as itself, escaped or not; a letter beyond ASCII, or one browsers
    escape (:data:`SENT_ESCAPED`), as its UTF-8 bytes' %XX; every %XX in upper case; reserved
    characters as written, escaped or not; letters beyond ASCII composed (:func:`composed`)."""
    spelled = []
    for i, piece in enumerate(ESCAPE.split(path)):
        if i % 2:  # an escape, %XX
            byte = chr(int(piece[1:], 16))
            spelled.append(byte if byte in UNRESERVED else piece.upper())
            continue
        for ch in piece:
            if ch.isascii() and ch not in SENT_ESCAPED:
                spelled.append(ch)
            else:
                spelled.extend(f"%{byte:02X}" for byte in ch.encode("utf-8", "surrogatepass"))
    return LETTERS.sub(composed, "".join(spelled))


def composed(run: re.Match[str]) -> str:
    """A run of :data:`LETTERS` with the text its bytes spell in NFC, spelled as path_key spells
    it. Bytes that are no UTF-8 stay as they are, and nothing is composed across them; a letter
    NFC would make ASCII (the Kelvin sign, K; the Greek question mark, ;) is left as it is."""
    if "%" not in run[0]:
        return run[0]
    text = nfc_beyond_ascii(unquote_to_bytes(run[0]).decode("utf-8", "surrogateescape"))
    return "".join(
        ch if ch.isascii() else "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogateescape"))
        for ch in text
    )


def nfc_beyond_ascii(text: str) -> str:
    """``text`` in NFC, but for a letter NFC would make ASCII (the Kelvin sign, K; the Greek
    question mark, ;), which is left as it is, nothing composed across it."""
    parts = [""]  # text to compose, then each letter left as it is and the text after it
    for ch in text:
        if not ch.isascii() and unicodedata.normalize("NFC", ch).isascii():
            parts += [ch, ""]
        else:
            parts[-1] += ch
    return "".join(part if i % 2 else unicodedata.normalize("NFC", part) for i, part in enumerate(parts))


def query_text_key(text: str) -> str:
    """A query's name or value, form-decoded, with its letters composed as a path's are: each
    run of :data:`QUERY_LETTERS` in NFC (:func:`nfc_beyond_ascii`); ``q=cafe%CC%81``, ``q=café``
    and ``q=caf%C3%A9`` are one value. Case and every other character stay as they are."""
    return QUERY_LETTERS.sub(lambda run: nfc_beyond_ascii(run[0]), text)


def without_dot_segments(path: str) -> str:
    """A path with its ``.`` and ``..`` segments resolved as browsers resolve them before they
    send it (RFC 3986's remove_dot_segments): /a/./b is /a/b, /a/b/../c is /a/c, /../a is /a.
    An escaped dot (%2E) is one already (:func:`path_key`); an escaped / is no segment's end."""
    segments = path.split("/")
    resolved = segments[:1]
    for i, segment in enumerate(segments[1:], 1):
        if segment in {".", ".."}:
            if segment == ".." and len(resolved) > 1:
                resolved.pop()
            if i == len(segments) - 1:
                resolved.append("")  # /a/b/.. is the folder /a/
        else:
            resolved.append(segment)
    return "/".join(resolved)


def github_path(path: str, host: str = "github.com") -> str:
    """A path on GitHub's ``host`` (as :func:`path_key` spells it, without trailing slashes) with
    its first two names in lower case: on github.com and raw.githubusercontent.com the owner's and
    the repository's, on gist.github.com the user's and the gist's id (when it is hex:
    :data:`GIST_HOST`); on github.com without the repository's .git, on raw.githubusercontent.com
    without the ``refs/heads/`` before a branch (:data:`RAW_BRANCH_REF`). The rest as is."""
    segments = path.split("/")  # "", owner, repository (or user, gist), then a branch, a file…
    for i in (1, 2):
        name = segments[i] if i < len(segments) else ""
        if (HEX if host == GIST_HOST and i == 2 else GITHUB_NAME).fullmatch(name):
            segments[i] = name.lower()
    if host == "github.com" and len(segments) == 3 and len(segments[2]) > len(".git"):
        segments[2] = segments[2].removesuffix(".git")
    if host == RAW_GITHUB_HOST and segments[3:5] == RAW_BRANCH_REF and segments[5:6] not in ([], [""]):
        del segments[3:5]
    return "/".join(segments)


def links_in(text: str) -> list[str]:
    """The http(s) links written in free text, without the punctuation around them: a closing
    ``)`` is kept only when the link opened one (``…/Foo_(bar)``), so ``(see https://x.org/a).``
    gives ``https://x.org/a``; ``[label](https://x.org/a)`` gives the link too, and a link in
    square brackets ends at the one that closes them (:func:`storage.text.bracketed`)."""
    return [
        without_tail(bracketed(match.group(0), text[: match.start()]), TRAILING)
        for match in LINK_IN_TEXT.finditer(text)
    ]


def listed_in(text: str, link: str) -> bool:
    """Whether free text (a problem's existing work) already names the same work as ``link``,
    compared as :func:`normalise_link` spells them."""
    key = normalise_link(link)
    for listed in links_in(text):
        try:
            if normalise_link(listed) == key:
                return True
        except ValueError:  # not a link after all (a bad port…): it names nothing
            continue
    return False
