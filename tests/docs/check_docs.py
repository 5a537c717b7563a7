#!/usr/bin/env python3
"""ctest: the code in README.md and docs/*.md compiles, and no link leaves the repository.

Every fenced block must name its language. ```cpp (also c++, cxx) blocks are compiled as
C++20, ```c blocks as C99, each against include/ with -fsyntax-only. A block is a translation
unit of its own after a preamble (<magpie/magpie.hpp> or <magpie/magpie.h> and the standard
headers examples use), unless the line before its fence is `<!-- fragment -->`: then it is a
sequence of statements, compiled inside `void doc_fragment(magpie::runtime& rt) { { ... } }`
(C: `void doc_fragment(magpie_runtime* rt) { ... }`). Blocks that are not meant to compile
(output, pseudo-code, shell) use another language: text, sh, cmake, json...

Links: a relative link must name a file or folder of the repository; text may not point at
files users do not have (the project's internal notes) or at tracker numbers.

Usage: check_docs.py --source-dir DIR --cxx CXX --cc CC [--exclude-blocks FILE ...]
"""
import argparse
import concurrent.futures
import os
import pathlib
import re
import subprocess
import sys
import tempfile

CXX_LANGS = {"cpp", "c++", "cxx"}
C_LANGS = {"c"}
CXX_PREAMBLE = """#include <magpie/magpie.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>
"""
C_PREAMBLE = """#include <magpie/magpie.h>
#include <stdio.h>
"""
FENCE = re.compile(r"^(\s*)```(.*)$")
LINK = re.compile(r"\]\(([^)\s]+)\)|<img[^>]*\ssrc=\"([^\"]+)\"")
FORBIDDEN = [
    (re.compile(r"\.\./shared|shared/docs"), "a file outside the repository"),
    (re.compile(r"\b(DESIGN|BENCHMARKING|STYLE)\.md\b"), "the project's internal notes"),
    (re.compile(r"\bissue \d+|\bissues? #\d+", re.IGNORECASE), "a tracker number"),
    (re.compile(r"\bthe (design )?brief\b", re.IGNORECASE), "the project's internal brief"),
]


def blocks(path):
    """Yields (line number, language, fragment?, code) for each fenced block."""
    lines = path.read_text().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(2).strip()
        i += 1
        while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
            i += 1
        fragment = start > 0 and lines[start - 1].strip() == "<!-- fragment -->"
        yield start + 1, lang, fragment, "\n".join(lines[start + 1:i])
        i += 1


def source(where, lang, fragment, code, pch):
    """The translation unit; #line makes diagnostics name the Markdown file and line. With a
    precompiled preamble the compiler is given it by -include, so the text starts at #line."""
    file, line = where.rsplit(":", 1)
    at = f'#line {int(line) + 1} "{file}"\n'
    if lang in CXX_LANGS:
        pre = "" if pch else CXX_PREAMBLE
        if fragment:
            return f"{pre}void doc_fragment(magpie::runtime& rt) {{\n  {{\n{at}{code}\n  }}\n}}\n"
        return f"{pre}{at}{code}\n"
    if fragment:
        return f"{C_PREAMBLE}void doc_fragment(magpie_runtime* rt) {{\n{at}{code}\n}}\n"
    return f"{C_PREAMBLE}{at}{code}\n"


def precompile_preamble(args, tmp):
    """The C++ preamble as a precompiled header (each block would otherwise parse all of
    magpie.hpp again: minutes on a loaded 2-core machine); None where the compiler refuses."""
    header = pathlib.Path(tmp) / "doc_preamble.hpp"
    header.write_text(CXX_PREAMBLE)
    clang = "clang" in pathlib.Path(args.cxx).name
    pch = pathlib.Path(str(header) + (".pch" if clang else ".gch"))
    cmd = [args.cxx, "-std=c++20", "-I", str(args.source_dir / "include"), "-x", "c++-header",
           str(header), "-o", str(pch)]
    if subprocess.run(cmd, capture_output=True).returncode != 0:
        return None
    return ["-include-pch", str(pch)] if clang else ["-Winvalid-pch", "-include", str(header)]


def compile_block(args, where, lang, fragment, code, tmp, pch):
    cxx = lang in CXX_LANGS
    suffix, compiler, std = (".cpp", args.cxx, "-std=c++20") if cxx else (".c", args.cc, "-std=c99")
    flags = pch if cxx and pch else []
    src = pathlib.Path(tmp) / (where.replace("/", "_").replace(":", "_") + suffix)
    src.write_text(source(where, lang, fragment, code, bool(flags)))
    cmd = [compiler, std, "-fsyntax-only", *flags, "-I", str(args.source_dir / "include"),
           str(src)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return [f"{where}: this ```{lang} block does not compile"
                f"{' (as a fragment)' if fragment else ''}:\n{r.stderr}"]
    return []


def check_links(path, root):
    errors = []
    for n, line in enumerate(path.read_text().split("\n"), 1):
        for pattern, what in FORBIDDEN:
            if pattern.search(line):
                errors.append(f"{path.relative_to(root)}:{n}: refers to {what}: {line.strip()}")
        for m in LINK.finditer(re.sub(r"`[^`]*`", "", line)):  # not in code spans
            target = (m.group(1) or m.group(2)).split("#")[0]
            if not target or re.match(r"^[a-z]+:", target):
                continue  # an anchor in the same page, or a URL
            resolved = (path.parent / target).resolve()
            if root not in resolved.parents and resolved != root or not resolved.exists():
                errors.append(f"{path.relative_to(root)}:{n}: link to '{target}' "
                              "does not name a file of the repository")
    return errors


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--source-dir", type=pathlib.Path, required=True)
    p.add_argument("--cxx", required=True)
    p.add_argument("--cc", required=True)
    p.add_argument("--exclude-blocks", nargs="*", default=[],
                   help="files whose blocks are not compiled (their links are still checked)")
    args = p.parse_args()
    root = args.source_dir.resolve()
    files = [root / "README.md"] + sorted((root / "docs").glob("*.md"))
    errors, jobs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        pch = precompile_preamble(args, tmp)
        for path in files:
            rel = str(path.relative_to(root))
            errors += check_links(path, root)
            for line, lang, fragment, code in blocks(path):
                where = f"{rel}:{line}"
                if not lang:
                    errors.append(f"{where}: a fenced block without a language (```text for "
                                  "output, ```cpp for code that compiles)")
                elif lang in CXX_LANGS | C_LANGS and rel not in args.exclude_blocks:
                    jobs.append((args, where, lang, fragment, code, tmp, pch))
        with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            for result in pool.map(lambda job: compile_block(*job), jobs):
                errors += result
    compiled = len(jobs)
    for e in errors:
        print(e, file=sys.stderr)
    print(f"check_docs: {len(files)} files, {compiled} code blocks compiled, "
          f"{len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
