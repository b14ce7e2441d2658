"""The floor of this stack, for bench/callback_bench.py: a Flask endpoint
that only decrypts a callback, inserts one row and encrypts a reply."""
import os
import time

from flask import Flask, Response, request
from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from bot.wecom.crypto import MessageCrypto
from bot.wecom.inbound import envelope_xml, parse_xml
from storage.db import make_engine

engine = make_engine(os.environ["BARE_DB"])
metadata = MetaData()
rows = Table("bare_inbound", metadata, Column("id", Integer, primary_key=True), Column("body", String(4000)))
metadata.create_all(engine)
crypto = MessageCrypto(os.environ["BARE_TOKEN"], os.environ["BARE_AES"], os.environ["BARE_CORP"])
app = Flask(__name__)


@app.post("/wecom/callback")
def callback():
    encrypt, _ = envelope_xml(request.get_data())
    plain = crypto.open(request.args["msg_signature"], request.args["timestamp"], request.args["nonce"], encrypt)
    with engine.begin() as conn:
        conn.execute(insert(rows).values(body=plain))
    user = parse_xml(plain)["FromUserName"]
    now = str(int(time.time()))
    return Response(crypto.seal_xml(f"<xml><ToUserName>{user}</ToUserName><Content>ok</Content></xml>", now),
                    mimetype="application/xml")
