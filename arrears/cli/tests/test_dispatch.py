"""The `arrears` dispatcher: every command its help lists runs from its own module, only that
module is loaded to run it, and the user is named before or after any command.

Company A's cast (arrears.access.tests.people) works on Tina's lease at Elm Court (A-TINA).
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

import pytest

from arrears.cli import COMMANDS, main
from arrears.cli.dunning import HOLD_REASONS
from arrears.dunning.models import Hold
from arrears.ledger.models import TimelineEvent


def help_of(*argv: str) -> str:
    """The help `arrears ARGV --help` prints (it exits 0, and nothing goes to standard error)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), pytest.raises(SystemExit) as exit:
        main([*argv, "--help"])
    assert exit.value.code == 0
    assert not err.getvalue()
    return out.getvalue()


def listed(help_text: str, metavar: str) -> list[str]:
    """The choices a help lists under its COMMAND or ACTION argument, in their order."""
    section = help_text.split(f"\n  {metavar}\n", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^    (\S+)", section, flags=re.MULTILINE)


def test_every_command_the_help_lists_dispatches_with_its_actions():
    # given the commands `arrears --help` lists
    commands = listed(help_of(), "COMMAND")
    # then they are the dispatcher's table, in its order
    assert commands == list(COMMANDS)
    for name in commands:
        # when each command's help is asked for, with the user named before it or not
        for prefix in ((), ("--as", "alice")):
            text = help_of(*prefix, name)
            # then it is that command's own help, and each of its actions answers too
            assert text.startswith(f"usage: arrears {name} ")
            for action in listed(text, "ACTION") if "\n  ACTION\n" in text else []:
                assert help_of(*prefix, name, action).startswith(f"usage: arrears {name} {action} ")


def loaded_modules(*argv: str) -> set[str]:
    """The modules a new interpreter has loaded once `arrears ARGV --help` printed its help."""
    script = (
        "import sys\n"
        "from arrears.cli import main\n"
        "try:\n"
        f"    main({[*argv, '--help']!r})\n"
        "except SystemExit:\n"
        "    sys.stderr.write(' '.join(sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return set(done.stderr.split())


def packages(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_a_command_loads_its_own_module_only():
    # when `arrears aging --help` and `arrears --as alice plan show --help` run
    aging = loaded_modules("aging")
    plan = loaded_modules("--as", "alice", "plan", "show")
    # then each loaded the module of its part, not the others, and neither Django nor gunicorn
    others = set(COMMANDS.values())
    assert aging & others == {"arrears.cli.book"}
    assert plan & others == {"arrears.cli.plans"}
    assert not {"django", "gunicorn"} & packages(aging | plan)


def test_the_help_of_every_command_loads_neither_django_nor_gunicorn():
    # when `arrears --help` lists every command
    loaded = loaded_modules()
    # then every command module was loaded to list its command, and nothing they run
    assert set(COMMANDS.values()) <= loaded
    assert not {"django", "gunicorn"} & packages(loaded)


def test_the_hold_reasons_offered_are_the_holds():
    # the parser offers them before Django is set up; they are the model's
    assert set(HOLD_REASONS) == set(Hold.Reason.values)


@pytest.mark.django_db
def test_the_user_is_named_before_or_after_any_command(people, capsys, monkeypatch):
    # given no user named in the environment
    monkeypatch.delenv("ARREARS_USER", raising=False)
    # when alice places a hold naming herself before the command, then after it, then with `=`
    assert main(["--as", "alice", "hold", "A-TINA", "--reason", "manual"]) == 0
    assert main(["hold", "A-TINA", "--reason", "cease", "--as", "alice"]) == 0
    assert main(["--as=alice", "note", "A-TINA", "a call to make"]) == 0
    # and bob is named before a note and alice after it: the one after wins
    assert main(["--as", "bob", "note", "A-TINA", "the super called", "--as", "alice"]) == 0
    # then every change is hers
    assert list(Hold.objects.order_by("id").values_list("placed_by", "reason")) == [
        ("alice", "manual"),
        ("alice", "cease"),
    ]
    notes = TimelineEvent.objects.filter(kind="note.added").order_by("id")
    assert list(notes.values_list("actor", flat=True)) == ["alice", "alice"]
    # and with nobody named, a change is refused
    capsys.readouterr()
    assert main(["note", "A-TINA", "nobody's"]) == 2
    assert "arrears note: name the Arrears user" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--date", "2026-09-10"],
        ["letters", "batch", "--date", "2026-09-10"],
        ["mail", "send", "--date", "2026-09-10"],
    ],
)
@pytest.mark.parametrize("wait", ["nan", "inf", "-5", "soon"])
def test_a_wait_that_is_not_seconds_is_refused_before_anything_runs(argv, wait):
    # when a command that waits for the workers is asked to wait for what is not a number of
    # seconds, 0 or more (nan would never end, -5 would give up before asking)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), pytest.raises(SystemExit) as exit:
        main([*argv, "--wait", wait])
    # then it is refused as a usage error (exit 2), naming the option and the value
    assert exit.value.code == 2
    assert "argument --wait:" in err.getvalue()
    assert repr(wait) in err.getvalue()
    assert not out.getvalue()
