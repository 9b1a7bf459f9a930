"""The CLI package: every sub-command --help lists has the function that runs it, and no function waits for a
sub-command the parser never offers (the parsers and the command table live in separate group modules)."""

from tlcore import cli


def test_every_sub_command_has_one_function_and_every_function_a_sub_command():
    parser = cli._parser()
    offered, = (action.choices for action in parser._actions if hasattr(action, "choices") and action.choices)

    assert sorted(offered) == sorted(cli._COMMANDS)


def test_the_commands_that_run_tensorflow_are_sub_commands():
    assert cli._TENSORFLOW_COMMANDS <= set(cli._COMMANDS)
