"""The hidden functional contract suite: black-box over HTTP, side effects checked with SQL."""

from grader.contract.suite import CaseResult, ContractResult, run_contract

__all__ = ["CaseResult", "ContractResult", "run_contract"]
