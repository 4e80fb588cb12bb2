"""The course's bibliography: an accessible list with author-year labels (a local Sphinx extension).

1. docutils 0.19 (the version Jupyter Book 1 installs) writes each citation as
   ``<div role="doc-biblioentry">`` inside ``<div role="list">``. DPUB-ARIA 1.1 deprecated
   ``doc-biblioentry`` and advises plain list items instead, and axe-core reports the structure as
   a critical violation (``aria-required-children``: a list whose children are not list items).
   ``CitationListTranslator`` writes the same markup with ``role="listitem"``; pydata-sphinx-theme
   mixes its own Bootstrap rules into it as it does into Sphinx's default translator.
2. The text cites author-year ("Elman (1990)", ``bibtex_reference_style: author_year``), but
   pybtex's styles label the list alphabetically ("[Elm90]", "[CvMerrienboerG+14]"). The
   ``authoryear`` style (``bibtex_default_style``) labels each entry as the text cites it:
   "Elman 1990", "Williams & Peng 1990", "Pascanu et al. 2013".
"""
from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle
from sphinx.writers.html5 import HTML5Translator


class CitationListTranslator(HTML5Translator):
    def visit_citation(self, node):
        if not isinstance(node.previous_sibling(), type(node)):
            self.body.append('<div role="list" class="citation-list">\n')
        self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [" ".join(person.last_names) for person in people]
            who = (names[0] if len(names) == 1 else f"{names[0]} & {names[1]}" if len(names) == 2
                   else f"{names[0]} et al." if names else entry.key)
            yield f"{who} {entry.fields.get('year', 'n.d.')}".replace("{", "").replace("}", "")


class AuthorYearStyle(UnsrtStyle):
    default_label_style = AuthorYearLabels
    default_sorting_style = SortingStyle         # by first author, then year: as readers look up


def setup(app):
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    app.set_translator("html", CitationListTranslator)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
