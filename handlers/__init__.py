"""What the bot means: parsing commands, deciding who may do what, and
rendering replies and sheets. No Flask, no HTTP, no WeCom wire format."""
