import numpy as np
import pytest
from hypothesis import settings

# Property tests: enough examples to find broadcasting mistakes, few enough for a 2-core machine.
settings.register_profile("default", max_examples=25, deadline=None)
settings.load_profile("default")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
