"""axe-core (the pinned npm package in tests/a11y) run inside a page or frame in Chromium."""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}


def source() -> str:
    if not AXE.exists():
        raise RuntimeError(f"axe-core is not installed at {AXE}: run `npm ci --prefix tests/a11y` (make test does)")
    return AXE.read_text(encoding="utf-8")


def version(target) -> str:
    inject(target)
    return target.evaluate("() => axe.version")


def inject(target) -> None:
    """Put axe into `target` (a playwright Page or Frame), once."""
    if not target.evaluate("() => typeof window.axe !== 'undefined'"):
        target.evaluate(source())


def run(target, context: str | None = None) -> list[dict]:
    """Every violation of the WCAG 2.0/2.1 A and AA rules in `target` (its own document, not its frames:
    a frame is scanned on its own), each {id, impact, help, nodes: [{target, summary}]}."""
    inject(target)
    return target.evaluate(
        """async ([tags, context]) => {
            const result = await axe.run(context || document,
                {runOnly: {type: 'tag', values: tags}, iframes: false, resultTypes: ['violations']});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary,
                                           html: n.html.slice(0, 200)}))}));
        }""", [TAGS, context])


def blocking(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in BLOCKING]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])} elements)")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target']}: {node['html']}")
            lines.append("      " + (node["summary"] or "").replace("\n", "\n      "))
    return "\n".join(lines)
