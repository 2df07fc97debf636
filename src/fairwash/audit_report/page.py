"""The HTML document around the sections: one file, inline CSS, no script, no external resource."""

from __future__ import annotations

from collections.abc import Sequence

from fairwash.audit_report.sections import esc

__all__ = ["document", "CSS"]

CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 16px; line-height: 1.45;
       max-width: 1080px; margin: 24px auto; padding: 0 24px; color: #1a1a1a; background: #fff; }
h1 { font-size: 26px; margin-bottom: 4px; }
h2 { font-size: 21px; border-bottom: 2px solid #ddd; padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 18px; margin-bottom: 6px; }
.verdict { font-size: 24px; font-weight: bold; padding: 16px 20px; border-radius: 6px; margin: 16px 0; }
.verdict.pass { background: #e3f4e6; border: 3px solid #2e7d32; color: #1b5e20; }
.verdict.reject { background: #fde7e7; border: 3px solid #c62828; color: #8e1010; }
.verdict .detail { display: block; font-size: 16px; font-weight: normal; margin-top: 6px; }
table { border-collapse: collapse; margin: 10px 0; }
th, td { border: 1px solid #ccc; padding: 5px 10px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-family: "DejaVu Sans Mono", monospace; }
.REJECT { color: #b71c1c; font-weight: bold; }
.pass-cell { color: #1b5e20; }
figure { margin: 10px 0 24px 0; }
figure img { width: 100%; max-width: 900px; height: auto; border: 1px solid #eee; }
figcaption { font-size: 14px; color: #444; }
code, pre { font-family: "DejaVu Sans Mono", monospace; font-size: 14px; }
pre { background: #f6f6f6; padding: 10px; white-space: pre-wrap; word-break: break-all; }
.small { font-size: 14px; color: #444; }
"""


def document(title: str, sections: Sequence[str]) -> str:
    """The whole page: ``title`` (escaped) and the already-escaped HTML ``sections`` in order."""
    body = "\n".join(sections)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "img-src data:; style-src 'unsafe-inline'\">\n"
            f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<h1>{esc(title)}</h1>\n{body}\n</body>\n</html>\n")
