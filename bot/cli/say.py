"""`say USER TEXT`: post a message to the running server exactly as WeCom
would (encrypted and signed) and print the decrypted answer. For the demo
and for checking a deployment's callback set-up end to end."""
from __future__ import annotations

import secrets

import click
import requests

from bot.cli.group import UsageError, cli, pass_runtime
from bot.config import require
from bot.wecom.crypto import MessageCrypto, signature
from bot.wecom.inbound import parse_xml
from bot.wecom.replies import app_text_xml, envelope_xml


@cli.command("say", help="模拟企业微信发一条消息给本机服务 send a message as WeCom would\n\n"
                         "\b\nUSER：企业微信账号 WeCom userid, e.g. u700001\nTEXT：消息 message, e.g. 任务")
@click.argument("user")
@click.argument("text", nargs=-1, required=True)
@click.option("--url", help="回调地址 callback URL (默认本机 server.port)")
@pass_runtime(database=False)
def say(runtime, user, text, url) -> None:
    config = runtime.config
    require(config, "wecom.token", "wecom.encoding_aes_key", "wecom.corp_id")
    crypto = MessageCrypto(config["wecom.token"], config["wecom.encoding_aes_key"], config["wecom.corp_id"])
    now = str(runtime.clock.epoch())
    plain = app_text_xml(config["wecom.corp_id"], user, " ".join(text), int(now), secrets.randbits(62),
                         config["wecom.agent_id"])
    encrypt, nonce = crypto.encrypt(plain), secrets.token_hex(6)
    url = url or f"http://127.0.0.1:{config['server.port']}/wecom/callback"
    try:
        response = requests.post(url, data=envelope_xml(encrypt),
                                 params={"msg_signature": signature(config["wecom.token"], now, nonce, encrypt),
                                         "timestamp": now, "nonce": nonce}, timeout=10)
    except requests.RequestException:
        raise UsageError(f"连不上 {url}：服务启动了吗？") from None
    if response.status_code != 200:
        raise UsageError(f"服务拒绝了这条消息（HTTP {response.status_code}）")
    if not response.content:
        print("（无回复）")
        return
    reply = parse_xml(response.content)
    print(parse_xml(crypto.open(reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"], reply["Encrypt"]))["Content"])
