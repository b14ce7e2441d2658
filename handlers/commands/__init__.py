"""One module per command family. Importing this package registers every
chat command (handlers/registry.py); the order below is the order 帮助
lists them in, so the commands a role uses most come first."""
from handlers.commands import (reports, cards, meetings, tasks, org, publish, bulletin, checkin,  # noqa: F401
                               record, registers, basics)
