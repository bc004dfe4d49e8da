"""JUnit XML for CI: one ``testcase`` per cell (``classname`` = variant, ``name`` = case).

A failed assertion is a ``<failure>`` (message: the first failed assertion; text: every failed
assertion and the output); a cell without an answer is an ``<error>``. Written with the
standard library's ElementTree, which escapes everything; characters XML 1.0 cannot hold at all
(most control characters, which a model can emit) are replaced first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Sequence

from workbench.eval.results import CellRecord

# Characters outside XML 1.0's Char production.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
MAX_OUTPUT_CHARS = 20_000


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def junit_xml(title: str, records: Sequence[CellRecord]) -> bytes:
    failures = sum(r.status == "fail" for r in records)
    errors = sum(r.status == "error" for r in records)
    elapsed = sum(r.metrics.get("wall_s", 0.0) for r in records)
    suites = ET.Element(
        "testsuites", tests=str(len(records)), failures=str(failures), errors=str(errors)
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=_clean(title),
        tests=str(len(records)),
        failures=str(failures),
        errors=str(errors),
        skipped="0",
        time=f"{elapsed:.3f}",
    )
    for record in records:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=_clean(record.variant),
            name=_clean(record.case),
            time=f"{record.metrics.get('wall_s', 0.0):.3f}",
        )
        output = record.output
        if len(output) > MAX_OUTPUT_CHARS:
            output = output[:MAX_OUTPUT_CHARS] + f"\n… ({len(record.output):,} characters in all)"
        if record.status == "fail":
            first = record.failures[0]
            body = "\n".join(f"{f['assertion']}: {f['message']}" for f in record.failures)
            failure = ET.SubElement(
                case,
                "failure",
                message=_clean(f"{first['assertion']}: {first['message']}"),
                type="assertion",
            )
            failure.text = _clean(f"{body}\n\noutput:\n{output}")
        elif record.status == "error":
            error = ET.SubElement(case, "error", message=_clean(record.error or "error"), type=record.error_kind or "error")
            error.text = _clean(record.error or "")
        if output and record.status != "error":
            ET.SubElement(case, "system-out").text = _clean(output)
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"
