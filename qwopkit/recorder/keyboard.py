"""Real key events: a global pynput listener (how people are recorded) and a bot that types.

Both go through the X server: the listener hears every key press on the display, whichever
window has focus, and the bot presses keys with pynput's Controller (XTest), so an unattended
recording travels exactly the path a person's does.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from qwopkit.adapter.openqwop.bots import KeyProgram
from qwopkit.adapter.openqwop.host import KEY_BITS, GameHost, Tick


def _name(key) -> str | None:
    """'q', 'w', 'o', 'p', 'r' or 'esc' for the keys a session cares about, else None."""
    from pynput import keyboard

    if key == keyboard.Key.esc:
        return "esc"
    char = getattr(key, "char", None)
    if char and char.lower() in (*KEY_BITS, "r"):
        return char.lower()
    return None


def display_gone(exc: BaseException) -> bool:
    """Whether `exc` says the X display went away (its server ended: Xvfb killed by the same
    Ctrl-C as the recorder, under `xvfb-run`), rather than a fault of ours."""
    try:
        from Xlib.error import ConnectionClosedError, DisplayError
    except ImportError:  # not on X
        return isinstance(exc, OSError)
    return isinstance(exc, (ConnectionClosedError, DisplayError, OSError))


def ignore_display_loss_on_collection() -> None:
    """pynput's objects close their X connection when collected, and say so on stderr as an
    'Exception ignored' trace when the display is already gone: leave those out (others print)."""
    default = sys.unraisablehook

    def hook(unraisable) -> None:
        if unraisable.exc_value is None or not display_gone(unraisable.exc_value):
            default(unraisable)

    sys.unraisablehook = hook


def drive_host(host: GameHost, kind: str, name: str) -> None:
    """What a key event does in a session: Q W O P are held or let go, R restarts, Esc ends."""
    if name in KEY_BITS:
        (host.press if kind == "down" else host.release)(name)
    elif kind == "down" and name == "r":
        host.restart()
    elif kind == "down" and name == "esc":
        host.end_requested.set()


class PynputKeys:
    """A global keyboard listener: held keys from presses and releases, auto-repeat ignored.

    `on_event(kind, name, when)` is called from pynput's thread for each press of a key that was
    not held (X auto-repeat sends more presses while a key is held; they are dropped here) and
    each release. If the X display goes away, the listener ends and `on_display_lost()` is called
    (from its thread), with no trace.
    """

    def __init__(self, on_event: Callable[[str, str, float], None],
                 on_display_lost: Callable[[], None] = lambda: None) -> None:
        self._on_event = on_event
        self._on_display_lost = on_display_lost
        self._held: set[str] = set()
        self._listener: Any = None  # pynput.keyboard.Listener, once started

    def start(self) -> PynputKeys:
        from pynput import keyboard

        lost = self._on_display_lost

        class Listener(keyboard.Listener):
            def run(self) -> None:
                try:
                    super().run()
                except Exception as exc:
                    if not display_gone(exc):
                        raise
                    lost()

        listener = self._listener = Listener(on_press=self._press, on_release=self._release)
        listener.start()
        listener.wait()  # the listener is live before the first run starts
        return self

    def _press(self, key) -> None:
        name = _name(key)
        if name is None or name in self._held:
            return
        self._held.add(name)
        self._on_event("down", name, time.monotonic())

    def _release(self, key) -> None:
        name = _name(key)
        if name is None:
            return
        self._held.discard(name)
        self._on_event("up", name, time.monotonic())

    def stop(self) -> None:
        if self._listener is None:
            return
        from pynput import keyboard

        try:
            self._listener.stop()
            # pynput's X listener only notices the stop on its next event: send a harmless one.
            keyboard.Controller().tap(keyboard.Key.shift)
        except Exception as exc:
            if not display_gone(exc):
                raise
            # The display is gone, and the listener's thread with it: nothing left to stop.
        self._listener.join(2.0)
        self._listener = None


class BotKeyboard:
    """Plays a key program by pressing real keys, in step with the host's updates.

    After the host publishes update n of a run, the bot presses and releases whatever differs
    between the keys held now and the keys its program wants for update n + 1. Key events reach
    the host in a few milliseconds, well inside the 33 ms until the next update. When a run ends
    it lets go of every key, waits `pause` seconds and presses R; it plays until stopped (the
    session decides how many runs it records).
    """

    def __init__(self, host: GameHost, program: KeyProgram, pause: float = 0.5,
                 on_press: Callable[[str, float], None] | None = None,
                 on_display_lost: Callable[[], None] = lambda: None) -> None:
        self.host = host
        self.on_display_lost = on_display_lost  # called (from its thread) if the X display goes away
        self.program = program
        self.pause = pause
        self.on_press = on_press  # told (key, time.monotonic()) just before each press is sent
        self._ticks: queue.Queue[Tick] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._play, name="qwop-bot", daemon=True)

    def start(self) -> BotKeyboard:
        self.host.add_listener(self._ticks.put)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.host.remove_listener(self._ticks.put)
        self._thread.join(3.0)

    def _play(self) -> None:
        try:
            self._type()
        except Exception as exc:
            if not display_gone(exc):
                raise
            self.on_display_lost()

    def _type(self) -> None:
        from pynput import keyboard

        typist = keyboard.Controller()
        held = 0

        def hold(mask: int) -> None:
            nonlocal held
            for name, bit in KEY_BITS.items():
                if mask & bit and not held & bit:
                    if self.on_press is not None:
                        self.on_press(name, time.monotonic())
                    typist.press(name)
                elif held & bit and not mask & bit:
                    typist.release(name)
            held = mask

        run, program, over = None, None, False
        try:
            while not self._stop.is_set():
                try:
                    tick = self._ticks.get(timeout=0.2)
                except queue.Empty:
                    continue
                if tick.run != run:  # a new run: the program starts again
                    run, program, over = tick.run, self.program.keys(), False
                if over:
                    continue  # the ragdoll settling after the end of a run
                if tick.status != "running":
                    over = True
                    hold(0)
                    if self._stop.wait(self.pause):
                        return
                    typist.tap("r")
                    continue
                assert program is not None  # set with `run` by the first tick
                hold(next(program))
        finally:
            hold(0)
