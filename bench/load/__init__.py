"""Load test of the whole exchange (see run.py); ``workload`` and ``audit`` are shared with
tests/hardening/test_load.py."""
