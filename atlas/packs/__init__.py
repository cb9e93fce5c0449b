"""The packs people take away: self-contained HTML, a PDF printed from it, and (for funders) a CSV.

* `funder`: the Outcomes page for a funder or the whole network (`python -m atlas report`);
* `board`: the Network map for a board meeting (`python -m atlas report --board`);
* `render`: what they share: Chromium drawing charts as SVG and printing the HTML to PDF.
"""
