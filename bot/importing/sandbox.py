"""Reading a paper in another process, limited in time and memory.

parse_paper is pure but not cheap: a small hostile upload (a Word file of 300,000 empty
paragraphs, a workbook of half a million shared strings) can keep it busy for many seconds
and take gigabytes, and on the server's event loop that would stop every request, the
health check included. So the server and the command line read papers here:

- A few worker processes, each a fresh interpreter (`python -c`, like multiprocessing's
  "spawn": none of the server's threads, connections or sockets are copied into it, and
  unlike "spawn" it never re-runs the caller's __main__), reused between papers. A worker
  lowers its own priority and, while reading, limits its address space (RLIMIT_AS) and
  CPU time (RLIMIT_CPU), so running out of memory is a MemoryError in the worker, never in
  the server, and a worker whose server is gone can't run on.
- The server waits for the answer in a thread of its own small pool, never on the event
  loop. A worker that takes longer than the time allowed is killed and replaced, and so is
  one that ran out of memory or died.
- What comes back is a ParsedPaper (plain dataclasses, pickled) or a PaperFormatError with
  one polite line: the format's own refusal, or that the paper took too long or was too
  large.
"""
from __future__ import annotations

import asyncio
import atexit
import logging
import os
import socket
import subprocess
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from multiprocessing.connection import Connection
from pathlib import Path

from .model import PaperFormatError, ParsedPaper

log = logging.getLogger("scrutineer")

TIMEOUT = 20.0          # seconds one paper may take to read
MEMORY_MB = 768         # address space a worker may use while reading (it needs about 60 MB idle)
WORKERS = 2             # papers read at once; more wait their turn (the machine may have two cores)
START_TIMEOUT = 60.0    # seconds a new worker may take to start (importing lxml, openpyxl, pypdf ...)
JOBS_PER_WORKER = 100   # then it is replaced, handing back whatever memory it kept

TOO_SLOW = ("That paper took too long to read. Please paste just the recommendations, "
            "or save them as a CSV.")
TOO_LARGE = ("That paper is too large to read. Please paste just the recommendations, "
             "or save them as a CSV.")
FAILED = "Sorry, I couldn't read that paper. Please paste its text, or save it as a CSV."

_ROOT = str(Path(__file__).resolve().parents[2])   # the directory holding the bot package


# -- the worker process ---------------------------------------------------------------

def _worker_main(fd: int) -> None:  # pragma: no cover - runs in the worker process
    """Read papers sent over the socket `fd` until it closes:
    (content, filename, fmt, today, memory_mb, timeout) in,
    ("ok", ParsedPaper) | ("refused", message) | ("memory", None) | ("failed", details) out."""
    import logging as logging_
    import resource
    import warnings

    conn = Connection(fd)
    try:
        os.nice(5)   # the server's own requests come first
    except OSError:
        pass
    warnings.simplefilter("ignore")        # libraries' complaints about a file are not ours to print
    logging_.disable(logging_.CRITICAL)
    from bot.importing import parse_paper
    for module in ("docx", "docx.table", "openpyxl", "pypdf"):   # paid once, not by the first paper
        try:
            __import__(module)
        except ImportError:
            pass
    as_soft, as_hard = resource.getrlimit(resource.RLIMIT_AS)
    cpu_soft, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        except MemoryError:
            _send(conn, ("memory", None))
            return
        content, filename, fmt, today, memory_mb, timeout, *extra = job
        columns = extra[0] if extra else None   # the officer's column choices, if any
        del job
        limit = memory_mb * 1024 * 1024
        if as_soft != resource.RLIM_INFINITY:
            limit = min(limit, as_soft)
        used = resource.getrusage(resource.RUSAGE_SELF)
        cpu = int(used.ru_utime + used.ru_stime + 2 * timeout + 5)   # SIGXCPU ends a runaway worker
        if cpu_soft != resource.RLIM_INFINITY:
            cpu = min(cpu, cpu_soft)
        out_of_memory = False
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu_hard))
            resource.setrlimit(resource.RLIMIT_AS, (limit, as_hard))
            try:
                answer = ("ok", parse_paper(content, filename, fmt, today=today, columns=columns))
            finally:
                resource.setrlimit(resource.RLIMIT_AS, (as_soft, as_hard))
        except PaperFormatError as e:
            answer = ("refused", str(e))
        except MemoryError:
            answer, out_of_memory = ("memory", None), True
        except RecursionError:
            answer = ("refused", FAILED)
        except Exception:
            answer = ("failed", traceback.format_exc(limit=8))
        content = None
        if not _send(conn, answer) or out_of_memory:
            return   # a worker that ran out of memory is not trusted with another paper
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_soft, cpu_hard))


def _send(conn, answer) -> bool:  # pragma: no cover - runs in the worker process
    try:
        conn.send(answer)
        return True
    except MemoryError:
        try:
            conn.send(("memory", None))
            return True
        except Exception:
            return False
    except Exception:
        return False


# -- the server's side ------------------------------------------------------------------

class _Stuck(Exception):
    """The worker took longer than allowed."""


class _NoStart(Exception):
    """The worker never became ready (a broken installation, not a hostile paper)."""


class _Worker:
    """One worker process and the socket to it. Used by one thread at a time."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH")) if p)
        fd = theirs.fileno()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", f"from bot.importing.sandbox import _worker_main; _worker_main({fd})"],
                pass_fds=(fd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env, cwd=_ROOT)
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.ready = False
        self.jobs = 0
        _all_workers.add(self)

    def read(self, job: tuple, timeout: float) -> tuple:
        """The worker's answer to one job. Raises _Stuck after `timeout`, EOFError/OSError if the
        worker died."""
        if not self.ready:
            try:
                if not self.conn.poll(START_TIMEOUT):
                    raise _NoStart("no answer")
                self.conn.recv()
            except (EOFError, OSError) as e:
                raise _NoStart(str(e)) from None
            self.ready = True
        self.jobs += 1
        self.conn.send(job)
        if not self.conn.poll(timeout):
            raise _Stuck()
        return self.conn.recv()

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        _all_workers.discard(self)
        try:
            self.process.kill()
            self.process.wait(5)
        except Exception:  # pragma: no cover - already gone
            pass
        self.conn.close()


_all_workers: set[_Worker] = set()


class _Pool:
    def __init__(self, size: int) -> None:
        self.size = size
        self.idle: list[_Worker] = []
        self.lock = threading.Lock()
        self.executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="paper-reader")

    def read(self, job: tuple, timeout: float) -> tuple:
        """Runs in one of the pool's threads: a worker (idle, or a new one) reads the job."""
        with self.lock:
            worker = self.idle.pop() if self.idle else None
        if worker is not None and not worker.alive():
            worker.stop()
            worker = None
        if worker is None:
            worker = _Worker()
        try:
            answer = worker.read(job, timeout)
        except _Stuck:
            self.replace(worker)
            return ("slow", None)
        except _NoStart as e:
            worker.stop()
            return ("failed", f"the paper reader did not start ({e}; exit code {worker.process.returncode})")
        except (EOFError, OSError):
            self.replace(worker)
            return ("died", None)
        except BaseException:
            worker.stop()
            raise
        if answer[0] == "memory" or worker.jobs >= JOBS_PER_WORKER:
            self.replace(worker)
        else:
            with self.lock:
                self.idle.append(worker)
        return answer

    def replace(self, worker: _Worker) -> None:
        """Kill a worker, and start its successor now so the next paper doesn't wait for it."""
        worker.stop()
        with self.lock:
            if len(self.idle) >= self.size:
                return
        successor = _Worker()
        with self.lock:
            self.idle.append(successor)

    def shutdown(self) -> None:
        with self.lock:
            workers, self.idle = self.idle, []
        for worker in workers:
            worker.stop()


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def _the_pool() -> _Pool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = _Pool(WORKERS)
        return _pool


@atexit.register
def shutdown() -> None:
    """Stop every worker (on exit too; one left reading would stop by its CPU limit anyway)."""
    if _pool is not None:
        _pool.shutdown()
    for worker in list(_all_workers):
        worker.stop()


async def parse_in_sandbox(content: bytes | str, filename: str | None, today: date, *, fmt: str = "auto",
                           timeout: float = TIMEOUT, memory_mb: int = MEMORY_MB,
                           columns: str | dict | None = None) -> ParsedPaper:
    """parse_paper(content, filename, fmt, today=today, columns=columns), read in a worker process: at most
    `timeout` seconds of reading (not counting a new worker's start) and `memory_mb` of address
    space. Raises PaperFormatError with one polite line when the paper can't be read."""
    pool = _the_pool()
    job = (content, filename, fmt, today, int(memory_mb), float(timeout), columns)
    kind, value = await asyncio.get_running_loop().run_in_executor(pool.executor, pool.read, job, float(timeout))
    if kind == "ok":
        return value
    if kind == "refused":
        raise PaperFormatError(value)
    if kind == "slow":
        log.warning("Reading a paper (%s, %d bytes) took longer than %g s; stopped it",
                    filename or "pasted", len(content), timeout)
        raise PaperFormatError(TOO_SLOW)
    if kind in ("memory", "died"):
        log.warning("Reading a paper (%s, %d bytes) %s", filename or "pasted", len(content),
                    "ran out of memory" if kind == "memory" else "stopped the reader")
        raise PaperFormatError(TOO_LARGE)
    log.error("Reading a paper (%s) failed:\n%s", filename or "pasted", value)
    raise PaperFormatError(FAILED)
