"""qwopkit.bench: every benchmark and diagnostic, one module per subject, all reachable from
`qwop-bench` (cli.py). Floor: applications, the top one: it may import anything below (the
library, the algorithms, the other applications); nothing imports it, except the tests.
"""
