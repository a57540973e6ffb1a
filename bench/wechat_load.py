"""The WeChat callback under load: signed plaintext notes, each a fresh MsgId (one in 20 a retry)."""
import itertools
import random
import threading
import time

import psycopg

from bench.load import Call
from dispatch.demo import data as demo
from dispatch.wechat import protocol

ACCOUNT = {"code": "bench", "appid": "wx0123456789abcdef", "token": "benchToken"}
RETRY_EVERY = 20  # WeChat retries when a reply is late; the bench resends some MsgIds the same way


def add_account(community):
    """Register the bench's account (inside an app context)."""
    from dispatch.wechat.accounts import add_account as add
    add(ACCOUNT["code"], "压测账号", ACCOUNT["appid"], ACCOUNT["token"], "bench-secret", community_code=community,
        hotline="0532-80000000")


class FreshMessages:
    """An endless list of signed text messages: every index asked for is a new MsgId (or a retry of one)."""

    def __init__(self, seed=5, residents=2000, first_id=8_000_000_000_000_000_001, retry_every=RETRY_EVERY):
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.ids = itertools.count(first_id)
        self.residents = residents
        self.retry_every = retry_every  # 0: never a retry
        self.last = None

    def __len__(self):
        return 1 << 62

    def __getitem__(self, index):
        with self.lock:
            if self.last is not None and self.retry_every and index % self.retry_every == 0:
                return self.last
            msg_id = next(self.ids)
            text = self.rng.choice(demo.RESIDENT_MESSAGES)[0]
            openid = f"o_bench_{self.rng.randrange(self.residents):05d}"
        timestamp, nonce = str(int(time.time())), f"n{msg_id % 100000}"
        xml = protocol.Outgoing("gh_bench", openid, "text", int(timestamp), {"Content": text, "MsgId": msg_id}).xml()
        query = f"signature={protocol.sign(ACCOUNT['token'], timestamp, nonce)}&timestamp={timestamp}&nonce={nonce}"
        call = Call("POST", f"/wechat/{ACCOUNT['code']}?{query}", body=xml.encode(),
                    headers=(("Content-Type", "text/xml"),), kind=f"msg:{msg_id}")
        self.last = call
        return call


def tickets_opened(plain_url):
    """Tickets opened by the bench account's residents."""
    with psycopg.connect(plain_url) as conn:
        return conn.execute("SELECT count(*) FROM tickets t JOIN residents r ON r.id = t.resident_id "
                            "WHERE r.account_code = %s", (ACCOUNT["code"],)).fetchone()[0]
