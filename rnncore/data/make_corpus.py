"""Author tool, not part of the library (nothing imports it): rebuild ``python_docs.txt``.

The corpus is the English prose of the Python Language Reference and Library topics that
CPython ships as ``pydoc_data/topics.py`` (the text ``help("for")`` prints), licensed under the
PSF License (``LICENSE-PSF.txt``). Run it with the Python whose topics you want, from anywhere:

    python3.11 rnncore/data/make_corpus.py        # the shipped file came from CPython 3.11.7

Extraction, topic by topic in alphabetical order, paragraph by paragraph (blank-line blocks):

1. headings keep their text and lose their underline (``****``, ``====``, ``----``);
2. code and grammar go: a block with an interactive prompt (``>>>``, ``...``), a grammar rule
   (``::=``) or a table border (``+---``, ``|``, ``===``); a literal block (indented under a
   paragraph ending in ':', unless it is a list item or that paragraph is a label like
   "Note:"); and any block that does not read as prose: fewer than 80% letters and spaces,
   fewer than five words, or no sentence end (``. ? ! :``, maybe followed by ``) " '``), which
   drops signatures such as ``str.center(width[, fillchar])``;
3. reST leftovers go: ``*emphasis*`` and ``**strong**`` lose their stars, footnote marks
   ``[1]`` and the ``-[ Footnotes ]-`` rubric go;
4. typographic characters become ASCII (curly quotes, dashes, ellipsis, ss, degree), so the
   vocabulary is printable ASCII plus the newline;
5. each paragraph is re-wrapped at 72 columns (list items keep a hanging indent);
6. a paragraph that occurs in several topics (e.g. "async for" is in both "async" and "for")
   is kept only the first time; paragraphs are separated by one blank line.
"""
import re
import sys
import textwrap
from pathlib import Path

from pydoc_data.topics import topics

ASCII = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                       "\u2013": "-", "\u2014": "--", "\u2026": "...", "\u00df": "ss",
                       "\u00b0": " degrees"})
UNDERLINE = re.compile(r"^[*=\-^~]{3,}$")
EMPHASIS = re.compile(r"(?<![\w*\"])\*{1,2}(\S[^*]*?\S|\S)\*{1,2}(?![\w*])")
CODE = re.compile(r">>>|^\s*\.\.\.\s|::=|^\s*[+|]|^\s*={3,}", re.M)


def is_prose(text):
    """Mostly letters, at least five words, ending like a sentence (or a lead-in ':')."""
    letters = sum(c.isalpha() or c.isspace() for c in text)
    return (letters >= 0.8 * len(text) and len(text.split()) >= 5
            and re.search(r"[.?!:][)\"']?$", text) is not None)


def indent(line):
    return len(line) - len(line.lstrip())


def paragraphs(topic):
    previous, depth = "", 0
    for block in re.split(r"\n\s*\n", topic):
        lines = block.strip("\n").splitlines()
        if not lines:
            continue
        if len(lines) == 2 and UNDERLINE.match(lines[1].strip()):
            previous, depth = "", 0
            yield lines[0].strip()                               # a heading, without underline
            continue
        text = " ".join(line.strip() for line in lines)
        # A literal block: indented under a paragraph that ends with ':' ("for example:"),
        # unless it is a list item or the paragraph is a label such as "Note:".
        literal = (indent(lines[0]) > depth and previous.endswith(":")
                   and len(previous.split()) > 2 and not re.match(r"([*-]|\d+\.) ", text))
        if literal or CODE.search(block) or "-[ Footnotes ]-" in block:
            continue
        previous, depth = text, indent(lines[0])
        text = EMPHASIS.sub(r"\1", text)                         # *emphasis*, **strong**
        text = re.sub(r"\s*\[\d+\]", "", text)                   # footnote marks
        if is_prose(text):
            item = re.match(r"([*-]|\d+\.) ", text)
            hanging = " " * len(item[0]) if item else ""
            yield textwrap.fill(text, width=72, subsequent_indent=hanging)


def corpus():
    every = [p for name in sorted(topics) for p in paragraphs(topics[name])]
    text = "\n\n".join(dict.fromkeys(every))                  # each paragraph once, in order
    text = text.translate(ASCII) + "\n"
    assert text.isascii(), sorted({c for c in text if not c.isascii()})
    return text


if __name__ == "__main__":
    out = Path(__file__).with_name("python_docs.txt")
    out.write_text(corpus(), encoding="ascii")
    print(f"{out}: {out.stat().st_size:,} bytes from Python {sys.version.split()[0]}")
