#!/usr/bin/env python3
"""Prints the scipy reference windows that tests/kernels/window_test.cpp compares against.
Run in any environment with scipy: python3 tests/support/reference_windows.py"""
import numpy as np
from scipy.signal import windows

np.set_printoptions(precision=17)
print("blackman(7)", repr(windows.blackman(7)))
print("taylor(9, nbar=4, sll=35)", repr(windows.taylor(9, nbar=4, sll=35)))
print("taylor(8, nbar=5, sll=40)", repr(windows.taylor(8, nbar=5, sll=40)))
print("chebwin(9, at=60)", repr(windows.chebwin(9, at=60)))
print("chebwin(8, at=50)", repr(windows.chebwin(8, at=50)))
