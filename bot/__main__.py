import os
import sys

from bot.cli import main

# Everything the bot writes — the SQLite database, evidence, exports, backups,
# log-channel files — holds members' personal data: the owner's alone
# (files 0600, folders 0700), whoever runs it with whatever umask.
os.umask(0o077)
sys.exit(main())
