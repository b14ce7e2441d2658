"""Everything that knows WeCom's wire format: crypto, inbound parsing,
reply bodies, the API client, and the loopback stand-in for tests/demo."""
