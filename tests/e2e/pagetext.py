"""The visible text of a page (what a reader sees: no tags, no scripts or
styles, attribute values that show — placeholder, value of buttons, title,
alt), and its words, for the language tests."""
import html.parser
import re


class _Text(html.parser.HTMLParser):
    SHOWN_ATTRS = {"placeholder", "title", "alt", "aria-label"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        a = dict(attrs)
        for k in self.SHOWN_ATTRS:
            if a.get(k):
                self.parts.append(a[k])
        if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
            self.parts.append(a["value"])
        if tag == "option" and False:
            pass

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible_text(page):
    p = _Text()
    p.feed(page)
    return " ".join(" ".join(p.parts).split())


def words(text):
    """Words of letters only (no numbers, addresses, dates)."""
    return set(w.lower() for w in re.findall(r"[A-Za-zÄÖÜäöüß]+", text))
