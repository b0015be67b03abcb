"""``python -m xenhvc.scan scan|density ...``: the scan commands without the main CLI."""
import sys

import click

from .commands import density_cmd, scan_cmd


class _Out:
    def write(self, data: bytes) -> None:
        sys.stdout.buffer.write(data)


@click.group()
def main() -> None:
    """Static HVC call-site scanner."""


main.add_command(scan_cmd)
main.add_command(density_cmd)

if __name__ == "__main__":
    try:
        rv = main.main(standalone_mode=False, obj=(_Out(), sys.stderr, None))
    except click.ClickException as e:
        e.show()
        sys.exit(2)
    except Exception as e:  # XenhvcError and friends: one line
        code = getattr(e, "exit_code", 70)
        sys.stderr.write(f"xenhvc: {e}\n")
        sys.exit(code)
    sys.exit(rv if isinstance(rv, int) else 0)
