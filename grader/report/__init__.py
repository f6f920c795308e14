"""The grade's report: report.json (versioned schema), report.md, and a JUnit XML for CI dashboards."""
