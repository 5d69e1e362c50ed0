"""The real-time host's life cycle without a browser: it stops at once, or says it could not."""

from __future__ import annotations

import socket
import threading

import pytest

from qwopkit.adapter.openqwop.host import GameHost


def test_stop_does_not_wait_for_a_connection_that_never_sent_a_request():
    # What Chromium's preconnect leaves: a TCP connection that sends nothing. Closing the server
    # used to wait for its opening handshake to time out (10 s).
    host = GameHost().start()
    [thread] = [t for t in threading.enumerate() if t.name == "qwop-host"]
    idle = socket.create_connection(("127.0.0.1", host.port))
    try:
        host.stop(timeout=3.0)  # raises if the thread is still running after 3 s
        assert not thread.is_alive()
    finally:
        idle.close()
        thread.join()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", host.port), timeout=1).close()  # the port is closed


def test_stop_fails_loudly_when_the_thread_does_not_end():
    host = GameHost()
    release = threading.Event()
    blocked = threading.Event()

    def slow_listener(tick) -> None:  # holds the host's thread (and its loop) until released
        if tick.update >= 1:
            blocked.set()
            release.wait()

    host.add_listener(slow_listener)
    host.start()
    try:
        assert blocked.wait(5)
        with pytest.raises(RuntimeError, match="did not stop within 0.2 s"):
            host.stop(timeout=0.2)
    finally:
        host.remove_listener(slow_listener)
        release.set()
    host.stop(timeout=5)  # once the loop runs again, the host stops
