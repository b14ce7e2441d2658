"""What the bot means: parsing commands, deciding who may do what, and
rendering replies and sheets. No Flask, no HTTP, no WeCom wire format."""

# The bot's version. Here, not in bot/, because handlers may not import bot/
# and bot/ may import handlers: one constant both can read.
__version__ = "0.1.0"
