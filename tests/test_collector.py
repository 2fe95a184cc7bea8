"""The collector is paused while qrun builds objects it keeps, and left as the caller had it after."""

from __future__ import annotations

import gc

import pytest

from qrun import collector


@pytest.mark.parametrize("before", [True, False])
def test_paused_inside_and_as_it_was_after_even_on_an_error(before):
    (gc.enable if before else gc.disable)()
    try:
        with pytest.raises(ValueError, match="inside"), collector.paused():
            assert not gc.isenabled()
            raise ValueError("inside")
        assert gc.isenabled() is before
    finally:
        gc.enable()
