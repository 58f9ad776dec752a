"""The memory suite's reading of a process's own peak resident set."""
import pytest

from bench.memory import high_water_mb

STATUS = """Name:\tpython
VmPeak:\t  612340 kB
VmSize:\t  598000 kB
VmHWM:\t  153600 kB
VmRSS:\t  120000 kB
"""


def test_high_water_mb_reads_vmhwm_not_the_current_rss():
    assert high_water_mb(STATUS) == 150.0


def test_high_water_mb_of_this_process_is_positive():
    assert high_water_mb() > 0


def test_high_water_mb_refuses_a_status_without_vmhwm():
    with pytest.raises(RuntimeError, match="VmHWM"):
        high_water_mb("Name:\tpython\nVmRSS:\t 1 kB\n")
