"""Evaluations: a prompt template, test cases and assertions, run against request variants.

No Textual here (the import-linter contract says so): the TUI screen and the ``workbench eval``
command both drive the same pieces.

* :mod:`~workbench.eval.template` — ``{{name}}`` templates
* :mod:`~workbench.eval.locate` — line numbers of TOML keys (``tomllib`` gives none)
* :mod:`~workbench.eval.assertions` — the assertion types and how a result is checked
* :mod:`~workbench.eval.spec` / :mod:`~workbench.eval.cases_file` — the eval file and its cases
* :mod:`~workbench.eval.plan` — cells (case × variant), their keys and the ``--shard`` split
* :mod:`~workbench.eval.runner` / :mod:`~workbench.eval.limiter` — sending the cells concurrently
* :mod:`~workbench.eval.results` — the results file (TOML), resume and "changed since last run"
* :mod:`~workbench.eval.report` / :mod:`~workbench.eval.junit` — the matrix, JSON and JUnit XML
"""
