"""Load: scenarios as data, Locust as the engine, HDR histograms, calibration against the reference."""

from grader.load.phase import LoadOptions, LoadResult, run_load
from grader.load.scenario import Scenario, ScenarioError, load_scenarios

__all__ = ["LoadOptions", "LoadResult", "Scenario", "ScenarioError", "load_scenarios", "run_load"]
