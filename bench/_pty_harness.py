"""Run a terminal program in a real pseudo-terminal and record everything it writes.

The benchmark needs to know *when* something became visible on a terminal screen, without
the measuring process slowing the measured one down. So the live part is kept cheap: a reader
thread drains the pty master into a list of ``(monotonic time, bytes)`` chunks (the terminal's
"arrival" clock), and the main thread only searches the raw bytes for unique markers to know
when to move on. The exact moment a text was on the *screen* is worked out afterwards by
replaying the recorded chunks through the ``pyte`` terminal emulator (:class:`ScreenReplay`),
which costs the app nothing while it is being measured.

``time.monotonic()`` is CLOCK_MONOTONIC, shared by every process on Linux, so times taken here
compare directly with times taken in the sim proxy process.
"""

from __future__ import annotations

import bisect
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
import tty
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence


def _set_window_size(fd: int, columns: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def _make_controlling_terminal() -> None:
    # Runs in the child after setsid(): fd 0 is the pty slave; make it the controlling tty so
    # the program gets SIGWINCH and behaves exactly as under a terminal emulator.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@dataclass(frozen=True)
class ProcessSample:
    """CPU time and peak memory of one process, read from /proc."""

    cpu_seconds: float  # utime + stime, all threads
    peak_rss_bytes: int  # VmHWM

    @classmethod
    def read(cls, pid: int) -> "ProcessSample":
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            stat = stat_file.read()
        # The command name (field 2) may contain spaces; fields after the last ')' are fixed.
        fields = stat[stat.rindex(b")") + 2 :].split()
        ticks = os.sysconf("SC_CLK_TCK")
        cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14, 15)
        peak = 0
        with open(f"/proc/{pid}/status") as status_file:
            for line in status_file:
                if line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) * 1024
                    break
        return cls(cpu_seconds=cpu, peak_rss_bytes=peak)


class PtyProcess:
    """A program running in a pseudo-terminal of a fixed size, with its output recorded."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        columns: int = 120,
        rows: int = 40,
        cwd: str | None = None,
    ) -> None:
        self.columns = columns
        self.rows = rows
        master, slave = os.openpty()
        _set_window_size(slave, columns, rows)
        # Raw, no echo, before the program starts: keys typed while it is still importing must
        # not be echoed by the line discipline (that would fake an early "visible" probe).
        tty.setraw(slave)
        self._master = master
        self._chunks: list[bytes] = []
        self._times: list[float] = []
        self._ends: list[int] = []  # cumulative byte offset at the end of each chunk
        self._output = bytearray()
        self._changed = threading.Condition()
        self._closed = False
        self.spawned_at = time.monotonic()
        self.process = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_make_controlling_terminal,
            close_fds=True,
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._read_forever, name="pty-reader", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    # -- recording --------------------------------------------------------------------------
    def _read_forever(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self._master], [], [], 0.5)
                if not ready:
                    if self.process.poll() is not None:
                        break
                    continue
                data = os.read(self._master, 1 << 16)
            except OSError:  # EIO: the slave side is gone
                break
            if not data:
                break
            now = time.monotonic()
            with self._changed:
                self._chunks.append(data)
                self._times.append(now)
                self._output += data
                self._ends.append(len(self._output))
                self._changed.notify_all()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    @property
    def bytes_read(self) -> int:
        with self._changed:
            return len(self._output)

    def chunks(self) -> list[tuple[float, bytes]]:
        with self._changed:
            return list(zip(self._times, self._chunks))

    def time_of_offset(self, offset: int) -> float:
        """Arrival time of the chunk that contains byte ``offset`` of the output."""
        with self._changed:
            return self._times[bisect.bisect_right(self._ends, offset)]

    def wait_for_bytes(self, needle: bytes, *, start: int = 0, timeout: float) -> tuple[int, float] | None:
        """Wait until ``needle`` occurs in the output at or after byte ``start``.

        Returns (offset just past the match, arrival time of the chunk completing it), or None
        on timeout or when the program exited first.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = self._output.find(needle, start)
                if found >= 0:
                    end = found + len(needle)
                    return end, self._times[bisect.bisect_left(self._ends, end)]
                # Next search can skip what was already searched (keeping a needle's overlap).
                start = max(start, len(self._output) - len(needle) + 1)
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return None
                self._changed.wait(remaining)

    def wait_quiet(self, quiet_for: float, *, timeout: float, since: float | None = None) -> bool:
        """Wait until nothing has been written for ``quiet_for`` seconds, counting from the
        later of the last output and ``since`` (default: now, so output that an input just
        sent will cause is waited for)."""
        start = time.monotonic() if since is None else since
        deadline = start + timeout
        while time.monotonic() < deadline:
            with self._changed:
                last = max(self._times[-1] if self._times else self.spawned_at, start)
            idle = time.monotonic() - last
            if idle >= quiet_for:
                return True
            time.sleep(min(quiet_for - idle, 0.05))
        return False

    # -- input ------------------------------------------------------------------------------
    def write(self, data: bytes) -> float:
        """Type bytes into the terminal; returns the time just before the write."""
        now = time.monotonic()
        os.write(self._master, data)
        return now

    # -- process ----------------------------------------------------------------------------
    def sample(self) -> ProcessSample:
        return ProcessSample.read(self.pid)

    def stop(self, quit_keys: bytes = b"\x11", timeout: float = 3.0) -> int | None:
        """Ask the program to quit with ``quit_keys``; terminate, then kill, if it does not."""
        if self.process.poll() is None:
            try:
                self.write(quit_keys)
            except OSError:
                pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout)
        self._reader.join(timeout)
        try:
            os.close(self._master)
        except OSError:
            pass
        return self.process.returncode


class ScreenReplay:
    """Replays recorded terminal output through pyte to find when text first showed on screen."""

    def __init__(self, chunks: Iterable[tuple[float, bytes]], columns: int, rows: int) -> None:
        import pyte  # dev dependency of the benchmarks only

        self._chunks = list(chunks)
        self._screen = pyte.Screen(columns, rows)
        self._stream = pyte.ByteStream(self._screen)
        self._position = 0  # index of the next chunk to feed

    def screen_text(self) -> str:
        return "\n".join(self._screen.display)

    def first_times(self, checks: Mapping[str, tuple[Callable[[str], bool], float]]) -> dict[str, float | None]:
        """Replay every chunk once; for each named check ``(predicate, after)`` return the arrival
        time of the first chunk at or after ``after`` following which ``predicate(screen text)``
        holds (None if it never does).

        The screen is only rendered to text when some check is due and pyte marked a row dirty,
        which keeps a replay of a few MB in the seconds range.
        """
        pending = dict(checks)
        found: dict[str, float | None] = {name: None for name in checks}
        while self._position < len(self._chunks) and pending:
            arrived, data = self._chunks[self._position]
            self._position += 1
            self._stream.feed(data)
            due = [name for name, (_, after) in pending.items() if arrived >= after]
            if not due or not self._screen.dirty:
                continue
            self._screen.dirty.clear()
            text = self.screen_text()
            for name in due:
                if pending[name][0](text):
                    found[name] = arrived
                    del pending[name]
        return found

    def screen_before_quit(self, quit_at: float) -> str:
        """Feed the chunks that arrived before ``quit_at``; the screen text at that moment."""
        while self._position < len(self._chunks) and self._chunks[self._position][0] < quit_at:
            self._stream.feed(self._chunks[self._position][1])
            self._position += 1
        return self.screen_text()

    def feed_all(self) -> str:
        while self._position < len(self._chunks):
            self._stream.feed(self._chunks[self._position][1])
            self._position += 1
        return self.screen_text()


def child_environment(base: Mapping[str, str], columns: int, rows: int, **extra: str) -> dict[str, str]:
    """The environment of a program run as if in an xterm of the given size."""
    env = {key: value for key, value in base.items() if key not in {"SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "TMUX"}}
    env.update(TERM="xterm-256color", COLORTERM="truecolor", COLUMNS=str(columns), LINES=str(rows))
    env.update(extra)
    return env


if __name__ == "__main__":  # manual check: python bench/_pty_harness.py CMD... prints the screen
    proc = PtyProcess(sys.argv[1:], env=child_environment(os.environ, 120, 40))
    proc.wait_quiet(1.0, timeout=10)
    proc.stop()
    print(ScreenReplay(proc.chunks(), 120, 40).feed_all())
