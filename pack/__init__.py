"""The committee pack: a basket of cards (`analytics.model.basket`) built for their views
into PowerPoint and PDF.

Enters: a store and a basket (or one view, for the standard set). Leaves: a `Pack`
(`build.build_pack`: each card's `content.Content`, its figure rendered once by the
shared browser) written by `slides.write_pptx` and `pdf.write_pdf`. `cards` builds each
kind of card with `frames` (tables in words) and `curves` (survival cards and their
editable charts); `cli` is ``python -m analytics pack``. Sits above `ui` (number forms,
notices) and `charts`, below the pages.
"""

from pack.build import Pack, basket_link, build_pack
from pack.pdf import write_pdf
from pack.slides import write_pptx

__all__ = ["Pack", "basket_link", "build_pack", "write_pdf", "write_pptx"]
