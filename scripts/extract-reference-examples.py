#!/usr/bin/env python3
"""Extract the API reference's example response bodies that the client reads.

The reference (../shared/seeds/002_*.txt) is a text dump of Classy's API
documentation. Each endpoint starts with a line like `GET/assets/{id}` under a
title line; its "Example response  200" is followed by `Body` and the JSON.
This writes one fixture per endpoint the client reads, named after the
endpoint (and the title, where one path has several sections, as
`POST/assets/{id}/process` does), into Tests/ClassyTests/Fixtures/reference/,
plus `index.json` naming the reference section of every file. The example
request bodies of the endpoints whose requests the client builds from the
shared vocabulary (CLIENT_SENDS) go to `requests/` beside them, with their own
`index.json`.

Some examples are not strict JSON (comments, trailing commas, a missing
closing bracket in the introduction's collection example): those are repaired
minimally and `index.json` says so. Run once and commit the output:

    python3 scripts/extract-reference-examples.py ../shared/seeds/002_7c6e8a846d51334b.txt
"""
import json
import os
import re
import sys

# The endpoints whose answers ClassyClient decodes (method, documented path).
CLIENT_READS = {
    ("POST", "/assets/url"), ("PUT", "/assets/{id}"), ("GET", "/assets/{id}"),
    ("GET", "/assets/{id}/children"), ("POST", "/assets/{id}/process"),
    ("GET", "/campaigns/{id}"),
    ("POST", "/campaigns/{id}/ecards"), ("GET", "/campaigns/{id}/ecards"),
    ("GET", "/eCards/{id}"), ("PUT", "/eCards/{id}"),
    ("GET", "/appeal-set/{id}"), ("GET", "/campaigns/{id}/appeal-set"),
    ("POST", "/campaigns/{id}/appeal-set"), ("PUT", "/appeal-set/{id}"),
    ("GET", "/donation-matching-plans/{id}"), ("PUT", "/donation-matching-plans/{id}"),
    ("POST", "/campaigns/{id}/donation-matching-plans"), ("GET", "/campaigns/{id}/donation-matching-plans"),
}
# The endpoints whose example *requests* are kept: the client encodes them and the
# sandbox decodes them with one definition (ClassyVocabulary's ProcessAction).
CLIENT_SENDS = {("POST", "/assets/{id}/process")}
# Paths documented more than once (one section per action): the title tells them apart.
BY_TITLE = {("POST", "/assets/{id}/process")}

ENDPOINT = re.compile(r"^(GET|POST|PUT|DELETE)(/\S+)$")


def open_brackets(text, opened, in_string=False):
    """Follows `text` outside strings: pushes the closer of every `{`/`[` onto
    `opened`, pops at every closer. Returns whether a string is still open."""
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            in_string = not in_string
        elif not in_string and ch in "{[":
            opened.append("}" if ch == "{" else "]")
        elif not in_string and ch in "}]" and opened:
            opened.pop()
    return in_string


def read_json_block(lines, start):
    """Lines from `start` up to the line closing the first bracket, or up to a
    blank line followed by prose when the brackets never close."""
    out, opened, in_string = [], [], False
    for i in range(start, len(lines)):
        line = lines[i]
        if not line.strip() and out and (i + 1 >= len(lines) or not lines[i + 1].startswith((" ", "\t", "{", "}", "[", "]"))):
            return out
        out.append(line)
        in_string = open_brackets(line, opened, in_string)
        if not opened:
            return out
    return out


def strip_comments(text):
    """Drops `// ...` to the end of the line, outside strings (URLs keep their `//`)."""
    out, in_string, escaped, i = [], False, False, 0
    while i < len(text):
        ch = text[i]
        if in_string:
            escaped = ch == "\\" and not escaped
            if ch == '"' and not escaped:
                in_string = False
        elif ch == '"':
            in_string = True
        elif text.startswith("//", i):
            while out and out[-1] in " \t":
                out.pop()
            i = text.find("\n", i)
            if i < 0:
                break
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def repair(text):
    """Returns (strict JSON text, list of repairs made)."""
    repairs = []
    stripped = strip_comments(text)
    if stripped != text:
        repairs.append("removed // comments")
    text = stripped
    no_trailing = re.sub(r",(\s*[}\]])", r"\1", text)
    if no_trailing != text:
        repairs.append("removed trailing commas")
    text = no_trailing
    opened = []
    open_brackets(text, opened)
    if opened:
        text = text.rstrip() + "\n" + "".join(reversed(opened)) + "\n"
        repairs.append("closed unclosed brackets")
    return text, repairs


def fixture_name(method, path, title):
    slug = re.sub(r"[^a-z0-9]+", "-", (method + path).lower().replace("{id}", "id")).strip("-")
    if (method, path) in BY_TITLE:
        slug += "-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug + ".json"


def body_after(lines, n):
    """The first line of the JSON after the `Body` line that follows line `n`, or None."""
    start = next((i + 1 for i in range(n + 1, min(n + 8, len(lines))) if lines[i].strip() == "Body"), None)
    if start is None:
        return None
    while start < len(lines) and not lines[start].strip():
        start += 1
    return start if start < len(lines) and lines[start].lstrip().startswith(("{", "[")) else None


def write_requests(lines, requests, out_dir):
    """One fixture per example request body, named like the responses."""
    os.makedirs(out_dir, exist_ok=True)
    index = {}
    for (method, path, title, at), n in requests:
        start = body_after(lines, n)
        if start is None:
            continue
        name = fixture_name(method, path, title)
        section = "%s %s%s (line %d), example request" % (title, method, path, at)
        text, repairs = repair("\n".join(read_json_block(lines, start)))
        try:
            parsed = json.loads(text)
        except ValueError as e:
            sys.exit("%s: %s\n%s" % (section, e, text[:400]))
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            json.dump(parsed, f, indent=2, ensure_ascii=False)
            f.write("\n")
        index[name] = {"section": section, "repairs": repairs}
    with open(os.path.join(out_dir, "index.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=2, sort_keys=True)
        f.write("\n")


def main():
    reference = sys.argv[1] if len(sys.argv) > 1 else "../shared/seeds/002_7c6e8a846d51334b.txt"
    out_dir = sys.argv[2] if len(sys.argv) > 2 else "Tests/ClassyTests/Fixtures/reference"
    lines = open(reference, encoding="utf-8").read().split("\n")
    os.makedirs(out_dir, exist_ok=True)
    index, found, requests = {}, set(), []
    endpoint = None  # (method, path, title, line number)
    for n, line in enumerate(lines):
        m = ENDPOINT.match(line.strip())
        if m:
            title = next(l for l in reversed(lines[:n]) if l.strip())
            endpoint = (m.group(1), m.group(2), title.strip(), n + 1)
            continue
        if endpoint and (endpoint[0], endpoint[1]) in CLIENT_SENDS and line.strip() == "Example request":
            requests.append((endpoint, n))
        intro = line.strip() == "Example Responses:" and endpoint is None
        if not intro and not (endpoint and re.match(r"Example response\s+200$", line.strip())):
            continue
        body_start = n + 1
        if not intro:
            # "Example response  200", "HideShow", "Headers", the header lines, "Body", then the JSON.
            body_start = next((i + 1 for i in range(n + 1, min(n + 8, len(lines))) if lines[i].strip() == "Body"), None)
            if body_start is None:
                continue  # documented without a body (DELETE)
        while body_start < len(lines) and not lines[body_start].strip():
            body_start += 1
        if not lines[body_start].lstrip().startswith(("{", "[")):
            continue
        if intro:
            name, section = "collection.json", "Fetching a Collection of Resources, Example Responses (line %d)" % (n + 1)
        else:
            method, path, title, at = endpoint
            if (method, path) not in CLIENT_READS:
                endpoint = None
                continue
            name, section = fixture_name(method, path, title), "%s %s%s (line %d)" % (title, method, path, at)
            found.add((method, path))
        text, repairs = repair("\n".join(read_json_block(lines, body_start)))
        try:
            parsed = json.loads(text)
        except ValueError as e:
            sys.exit("%s: %s\n%s" % (section, e, text[:400]))
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            json.dump(parsed, f, indent=2, ensure_ascii=False)
            f.write("\n")
        index[name] = {"section": section, "repairs": repairs}
        endpoint = None
    with open(os.path.join(out_dir, "index.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=2, sort_keys=True)
        f.write("\n")
    write_requests(lines, requests, os.path.join(out_dir, "requests"))
    missing = CLIENT_READS - found
    for m, p in sorted(missing):
        print("no example response found for %s %s" % (m, p), file=sys.stderr)
    print("%d fixtures written to %s" % (len(index), out_dir), file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
