"""Fixtures for the deploy/ checks; the helpers live in deploy_support.py beside this file."""

import sys
from pathlib import Path

import pytest

# --import-mode=importlib puts no test folder on sys.path: make the helper module importable
sys.path.insert(0, str(Path(__file__).parent))

from deploy_support import Rendered, production_values, render


@pytest.fixture(scope="session")
def default_render() -> Rendered:
    return render()


@pytest.fixture(scope="session")
def production_render() -> Rendered:
    return render(production_values())
