from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.bundle import load_shipped
from classifiers.model import ReportClassifier

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def shipped() -> ReportClassifier:
    return load_shipped()


@pytest.fixture(scope="session")
def tiny_csv() -> Path:
    return FIXTURES / "tiny.csv"


@pytest.fixture(scope="session")
def tiny_issue_csv() -> Path:
    return FIXTURES / "tiny_issue.csv"
