"""Reading hcr's HTML reports back: the images of a page, decoded, and a check that its tags are balanced."""

import base64
from html.parser import HTMLParser

PNG_DATA_URI = "data:image/png;base64,"


class ImageCollector(HTMLParser):
    """Every <img src> of a page, and the tags still open at the end (a well-formed page leaves none)."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])
        elif tag not in ("meta", "br", "link"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open, f"</{tag}> closes nothing"
        assert self.open[-1] == tag, f"</{tag}> closes <{self.open[-1]}>"
        self.open.pop()


def parse_images(page: str) -> list[str]:
    """The src of every <img> of `page`, after checking that every tag it opens is closed in order."""
    collector = ImageCollector()
    collector.feed(page)
    collector.close()
    assert collector.open == []
    return collector.sources


def embedded_files(sources: list[str]) -> set[bytes]:
    """The bytes of every image, each of which must be an embedded PNG (a data URI, never a link to a file)."""
    assert all(src.startswith(PNG_DATA_URI) for src in sources), [src[:40] for src in sources]
    return {base64.b64decode(src[len(PNG_DATA_URI) :]) for src in sources}
