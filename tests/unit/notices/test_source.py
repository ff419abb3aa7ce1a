"""A notice's source: blocks are found and every problem is named with its line; the text is
written out as HTML with raw HTML escaped and a unique id on each heading."""

from __future__ import annotations

import pytest

from rightful.core.errors import InvalidInputError
from rightful.notices.blocks import Block, parse
from rightful.notices.render import split_title, to_html

SOURCE = """# Our notice

Intro.

```notice contact
```

## Where to write

```notice rights US-CA
kinds: [access]
```
"""


def test_blocks_are_found_with_their_argument_and_empty_ones_are_left_to_fill() -> None:
    blocks = [s for s in parse(SOURCE) if isinstance(s, Block)]
    assert [(b.kind, b.arg, b.line, b.filled_by_rightful) for b in blocks] == [
        ("contact", "", 5, True),
        ("rights", "US-CA", 10, False),
    ]
    assert blocks[1].body == {"kinds": ["access"]}


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("```notice lies\n```\n", "unknown block `lies`"),
        ("```notice categories\n- key: x\n", "never closed"),
        ("```notice rights\n```\n", "needs a jurisdiction"),
        ("```notice categories\nkey: x\n```\n", "must be a YAML list"),
        (
            "```notice categories\n"
            "- {key: c, ccpa: gossip, words: abc, data_categories: [user]}\n```\n",
            "use one of the CCPA's categories",
        ),
        ("```notice signals\ngpc: [\n```\n", "not valid YAML"),
    ],
)
def test_a_bad_source_is_refused_naming_the_line_and_the_problem(source: str, words: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse(source)
    assert words in caught.value.detail and "line 1" in caught.value.detail


def test_raw_html_is_escaped_and_each_heading_gets_a_unique_id() -> None:
    html, headings = to_html("## Main\n\n<script>alert(1)</script>\n\n## Rights\n\n## Rights\n")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert [h.anchor for h in headings] == ["main-2", "rights", "rights-2"]  # "main" is the page's
    assert '<h2 id="rights-2">Rights</h2>' in html


def test_the_title_is_lifted_off_the_text() -> None:
    assert split_title("# Lumen notice\n\nText.\n") == ("Lumen notice", "\nText.\n")
    assert split_title("Text.\n") == ("", "Text.\n")
