"""`subnet canister ...`, shaped like `dfx canister`, in three parts:

- ``arguments``: the subcommands and their options (``register``);
- ``actions``: what each subcommand does with them: resolve names, run the client's
  workflow (``client.deploy``, ``client.manage``, ``client.call``) and print;
- ``output``: how results are shown, as text like dfx's or as JSON.
"""

__all__ = ["actions", "arguments", "output"]
