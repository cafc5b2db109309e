"""A Ctrl-C before a command's own code runs: `python -m experiments.…` or `plots.…` spends its
first second or two importing NumPy, SciPy and autograd (and matplotlib for plots.…; ≈ 1–2 s on
this machine), before `engine.io.cli.guarded` takes over the interrupt; a Ctrl-C there printed
Python's traceback of the import it broke — or, when it fell inside NumPy's C extension, an
ImportError telling the user that NumPy was badly installed. Standard library only, run by the
packages' faces (plots/__init__, which experiments/__init__ imports), so it is in place before
the first heavy import."""
import os
import signal
import sys
import threading


def interrupt_in_one_line() -> None:
    """In a `python -m experiments.…` or `python -m plots.…` process (sys.orig_argv), a Ctrl-C
    that ends the process before guarded answers it prints one line, `prog: interrupted while
    starting; nothing was written`, instead of a traceback (every write happens later, under
    guarded), and the process ends by SIGINT (exit 130 in a shell), as Python ends it after an
    uncaught KeyboardInterrupt. A C extension importing a module turns the KeyboardInterrupt into
    an ImportError: an ImportError counts as a Ctrl-C when the handler saw one. guarded
    (engine.io.cli) takes the handler over like Python's own (it is marked
    `raises_keyboard_interrupt`) and puts Python's own back. Anywhere else (pytest, a notebook's
    kernel, a script importing the packages), where sys.excepthook is not Python's own, or where
    Ctrl-C is not Python's default (a background job ignores it), nothing changes. Idempotent."""
    prog = _module_run()
    if prog.split(".")[0] not in ("experiments", "plots") or \
            sys.excepthook is not sys.__excepthook__ or \
            threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return
    signal.signal(signal.SIGINT, _ctrl_c)

    def one_line(kind, value, traceback):
        if not (issubclass(kind, KeyboardInterrupt) or
                issubclass(kind, ImportError) and _ctrl_c.came):
            sys.__excepthook__(kind, value, traceback)
            return
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while Python exits
        print(f"{prog}: interrupted while starting; nothing was written", file=sys.stderr)
        if not issubclass(kind, KeyboardInterrupt):  # Python ends those by SIGINT itself
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)

    sys.excepthook = one_line


def _ctrl_c(signum, frame):
    _ctrl_c.came = True
    raise KeyboardInterrupt


_ctrl_c.came = False
_ctrl_c.raises_keyboard_interrupt = True


def _module_run() -> str:
    """The module of `python [options] -m MODULE …` (sys.orig_argv), else "". The interpreter's
    options end at -m, -c, a script, `-` or `--`; one-letter options group (-Im, -mMODULE);
    -W, -X (and the rest of their group) and --check-hash-based-pycs take a value."""
    argv = getattr(sys, "orig_argv", [])
    i = 1
    while i < len(argv):
        option = argv[i]
        if option == "--check-hash-based-pycs":
            i += 2
            continue
        if not option.startswith("-") or option in ("-", "--") or option.startswith("--"):
            return ""
        for j, letter in enumerate(option[1:], start=2):
            if letter in "cmWX":
                value = option[j:] or (argv[i + 1] if i + 1 < len(argv) else "")
                if letter == "c":
                    return ""
                if letter == "m":
                    return value
                i += 0 if option[j:] else 1  # -W/-X: the value was the next argument
                break
        i += 1
    return ""
