"""junit.xml: the contract cases and the probes as test cases, for CI dashboards."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from grader.report.model import Report


def render(report: Report) -> str:
    suites = ET.Element("testsuites", name=f"grade {report.submission.name}")
    contract = ET.SubElement(suites, "testsuite", name="contract")
    for case in report.contract.cases if report.contract else []:
        element = ET.SubElement(contract, "testcase", classname="contract", name=case.name, time=f"{case.seconds:.3f}")
        if case.outcome != "passed":
            ET.SubElement(element, "failure", message=case.message[:500])
    probes = ET.SubElement(suites, "testsuite", name="bugs")
    for bug in report.bugs:
        element = ET.SubElement(probes, "testcase", classname=bug.category, name=bug.id)
        if bug.verdict == "present":
            ET.SubElement(element, "failure", message=bug.message[:500])
        elif bug.verdict == "inconclusive":
            ET.SubElement(element, "error", message=bug.message[:500])
    for suite in (contract, probes):
        cases = list(suite)
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(c.find("failure") is not None for c in cases)))
        suite.set("errors", str(sum(c.find("error") is not None for c in cases)))
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
